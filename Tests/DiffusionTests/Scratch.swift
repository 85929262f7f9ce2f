import Foundation

/// This test process's folder for scratch files, removed when the process exits.
let testScratchRoot: URL = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("diffusion-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    atexit {
        try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory
            .appendingPathComponent("diffusion-tests-\(getpid())"))
    }
    return root
}()
