import Foundation

/// This test process's folder for scratch files, removed when the process exits.
private let scratchRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("FiguresTests-\(getpid())")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit {
        try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory
            .appendingPathComponent("FiguresTests-\(getpid())"))
    }
    return root
}()

/// A fresh empty folder for one test, inside the process's scratch folder (gone at exit).
func scratchFolder(_ name: String = #function) -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = scratchRoot.appendingPathComponent("\(safe)-\(UInt32.random(in: 0...UInt32.max))")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Deterministic pseudo-random bytes (a 64-bit LCG), for test pictures.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}
