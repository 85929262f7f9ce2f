import Foundation

/// What a chapter run printed and wrote.
struct ChapterRun {
    let status: Int32
    let stdout: String
    let stderr: String
    let output: URL

    /// The files the run wrote, sorted.
    var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []).sorted()
    }
}

enum ChapterRunner {
    /// The package root (three folders above this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The built chapter executable: it sits next to the test bundle in the build products
    /// folder (`.build/<config>/`); falls back to the package's own .build folders.
    static func binary(_ name: String) throws -> URL {
        let fm = FileManager.default
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {   // the test bundle may be a folder (macOS) or a file (Linux)
            candidates.append(dir.appendingPathComponent(name))
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name))
        for config in ["release", "debug"] { candidates.append(root.appendingPathComponent(".build/\(config)/\(name)")) }
        for url in candidates where fm.isExecutableFile(atPath: url.path) { return url }
        throw RunnerError("cannot find the built executable \(name); build it with `swift build -c release`.")
    }

    /// This test process's folder for chapter outputs, removed when the process exits.
    static let scratchRoot: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("chapter-tests-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit {
            try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory
                .appendingPathComponent("chapter-tests-\(getpid())"))
        }
        return root
    }()

    /// A fresh temporary folder name (not created: the chapter creates it).
    static func temporaryFolder(_ tag: String) -> URL {
        scratchRoot.appendingPathComponent("\(tag)-\(UUID().uuidString)", isDirectory: true)
    }

    /// Runs `name` with `arguments` plus `--output <fresh folder>`, from the package root;
    /// `environment` adds or overrides environment variables.
    /// `output` reuses a folder (e.g. one an earlier run wrote); `passOutput: false` leaves the
    /// `--output` option out (the arguments carry their own).
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:],
                    output: URL? = nil, passOutput: Bool = true) throws -> ChapterRun {
        let folder = output ?? temporaryFolder(name)
        let process = Process()
        process.executableURL = try binary(name)
        process.arguments = arguments + (passOutput ? ["--output", folder.path] : [])
        process.currentDirectoryURL = root
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes before waiting, so a chatty chapter cannot block on a full pipe.
        final class Box { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let outData = outBox.data
        process.waitUntilExit()
        return ChapterRun(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self), output: folder)
    }

    /// True when the two folders hold the same, non-empty set of files with the same bytes.
    static func sameFiles(_ a: URL, _ b: URL) -> Bool {
        let fm = FileManager.default
        guard let na = try? fm.contentsOfDirectory(atPath: a.path).sorted(),
              let nb = try? fm.contentsOfDirectory(atPath: b.path).sorted(), na == nb, !na.isEmpty else { return false }
        return na.allSatisfy {
            fm.contentsEqual(atPath: a.appendingPathComponent($0).path, andPath: b.appendingPathComponent($0).path)
        }
    }
}

struct RunnerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The first line a failed run printed on stderr.
func errorLine(_ run: ChapterRun) -> String {
    run.stderr.split(separator: "\n").first.map(String.init) ?? ""
}
