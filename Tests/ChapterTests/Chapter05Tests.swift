import Foundation
import Testing

// Chapter05-UNet end to end: the built executable with --quick, via Foundation.Process.

private enum Chapter05Runner {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The executable sits next to the test bundle (.build/<config>/), or in the package's .build.
    static func binary() throws -> URL {
        let name = "Chapter05-UNet"
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 { candidates.append(dir.appendingPathComponent(name)); dir = dir.deletingLastPathComponent() }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name))
        for config in ["release", "debug"] { candidates.append(root.appendingPathComponent(".build/\(config)/\(name)")) }
        guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "build Chapter05-UNet first: swift build -c release"])
        }
        return url
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, stdout: String, stderr: String, folder: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chapter05-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments + ["--output", folder.path]
        process.currentDirectoryURL = root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self), folder)
    }
}

@Suite struct Chapter05Tests {
    @Test func quickRunWritesFiguresAndACheckpoint() throws {
        let run = try Chapter05Runner.run(["--quick"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: run.folder.path).sorted()
        #expect(files == ["feature_maps.png", "sanity_loss.png", "summary.json", "time_embedding.png", "unet.safetensors"])
        #expect(run.stdout.contains("2,020,257 parameters — equal"))
        #expect(run.stdout.contains("mid_attn           [4, 112, 7, 7]"))
        #expect(run.stdout.contains("falling, as it must"))
        #expect(run.stdout.contains("(identical)"))
        let size = try FileManager.default.attributesOfItem(atPath: run.folder.appendingPathComponent("unet.safetensors").path)[.size] as? Int
        #expect((size ?? 0) > 4 * 2_020_257)
    }

    @Test func convNextVariantRuns() throws {
        let run = try Chapter05Runner.run(["--quick", "--block", "convnext", "--steps", "3"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("block: convnext"))
    }

    @Test func badInputEndsInOneSentence() throws {
        for args in [["--bogus"], ["--block", "vit"], ["--lr", "-1"], ["--steps", "1"]] {
            let run = try Chapter05Runner.run(args)
            #expect(run.status != 0, "\(args)")
            #expect(run.stderr.hasPrefix("Error: "), "\(args): \(run.stderr)")
        }
        let missing = try Chapter05Runner.run(["--quick"], environment: ["FASHION_MNIST_DIR": "/nonexistent"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("sudo apt-get install dataset-fashion-mnist"))
    }
}
