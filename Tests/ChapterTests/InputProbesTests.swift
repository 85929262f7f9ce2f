import Foundation
import Testing

/// What a careful user tries: damaged data, absurd sizes, interrupted runs, pipes. Each probe
/// ends in exit code 1 (or the signal that stopped it) and one sentence, no backtrace, no file
/// left behind, and earlier outputs untouched.
@Suite struct InputProbesTests {
    /// Exit code 1, one line starting "Error: " that contains `phrase`, no backtrace, nothing written.
    static func expectRefused(_ run: ChapterRun, _ phrase: String, _ what: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1, "\(what): status \(run.status), \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(what): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(errorLine(run).hasPrefix("Error: ") && errorLine(run).contains(phrase), "\(what): \(run.stderr)",
                sourceLocation: sourceLocation)
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("backtrace"), sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: run.output.path), "\(what) created \(run.output.path)",
                sourceLocation: sourceLocation)
    }

    // MARK: Fashion-MNIST folders that are not what they claim (Chapter 5)

    static func idxHeader(_ dims: [UInt32]) -> [UInt8] {
        [0, 0, 8, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * UInt32($0))) } }
    }

    /// A dataset folder with `n` images of `side` × `side` and the given labels (plain IDX; zlib reads it as is).
    static func dataset(_ n: Int, side: Int = 28, labels: [UInt8]? = nil) throws -> String {
        let dir = ChapterRunner.scratchRoot.appendingPathComponent("probe-fmnist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let images = idxHeader([UInt32(n), UInt32(side), UInt32(side)]) + (0..<(n * side * side)).map { UInt8($0 % 251) }
        let values = labels ?? (0..<n).map { UInt8($0 % 10) }
        try Data(images).write(to: dir.appendingPathComponent("train-images-idx3-ubyte.gz"))
        try Data(idxHeader([UInt32(values.count)]) + values).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte.gz"))
        return dir.path
    }

    @Test func fashionMNISTFoldersThatCannotFeedTheBatch() throws {
        let cases: [(String, String, String)] = [
            (try Self.dataset(3), "holds only 3 images, fewer than --batch 4; lower --batch to at most 3", "3 images"),
            (try Self.dataset(0, labels: []), "holds no images", "0 images"),
            (try Self.dataset(4, labels: [1, 200, 3, 4]), "label 200", "label 200"),
            (try Self.dataset(4, side: 29), "29 x 29 images", "29 x 29"),
        ]
        for (dir, phrase, what) in cases {
            let run = try ChapterRunner.run("Chapter05-UNet", ["--quick"], environment: ["FASHION_MNIST_DIR": dir])
            Self.expectRefused(run, phrase, what)
        }
        let noLabels = try Self.dataset(4)
        try FileManager.default.removeItem(atPath: noLabels + "/train-labels-idx1-ubyte.gz")
        let run = try ChapterRunner.run("Chapter05-UNet", ["--quick"], environment: ["FASHION_MNIST_DIR": noLabels])
        Self.expectRefused(run, "train-labels-idx1-ubyte.gz is missing", "missing labels")
    }

    // MARK: Size options without bounds

    @Test(arguments: [
        ("Chapter04-MLPDenoiser", ["--epochs", "100000000000"], "lower --epochs"),
        ("Chapter04-MLPDenoiser", ["--samples", "1000000000"], "--samples must be between 1 and 1000000"),
        ("Chapter01-Clusters", ["--per-cluster", "1000000000000"], "--per-cluster must be between 2 and 1000000"),
        ("Chapter02-Schedules", ["--timesteps", "1000000000"], "--timesteps must be between 1 and 100000"),
        ("Chapter02-Schedules", ["--compare-timesteps", "50,1000000000"], "each --compare-timesteps value"),
        ("Chapter03-Forward", ["--timesteps", "1000000000"], "--timesteps must be between 1 and 100000"),
        ("Chapter03-Forward", ["--timesteps", "100000", "--every", "1"], "raise --every or lower --timesteps"),
        ("Chapter05-UNet", ["--batch", "70000"], "--batch must be between 1 and 256"),
        ("Chapter05-UNet", ["--steps", "1000000000"], "--steps must be between 2 and 100000"),
        ("Chapter02-Schedules", ["--timesteps", "-5"], "--timesteps must be between 1 and 100000, got -5"),
        ("Chapter04-MLPDenoiser", ["--timesteps", "-5"], "--timesteps must be between 2 and 10000, got -5"),
    ])
    func sizeOptionsHaveBounds(_ chapter: String, _ arguments: [String], _ phrase: String) throws {
        let run = try ChapterRunner.run(chapter, arguments + ["--quick"])
        Self.expectRefused(run, phrase, "\(chapter) \(arguments)")
    }

    // MARK: Files that are not images (Chapter 3)

    @Test func photoThatIsTooLargeOrAFolder() throws {
        // 69 bytes claiming 1,000,000 × 1,000,000 pixels.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ kind: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(kind.utf8) + data
            var crc: UInt32 = 0xFFFF_FFFF
            for b in body { crc ^= UInt32(b); for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 } }
            func be(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }
            return be(UInt32(data.count)) + body + be(~crc)
        }
        let side: [UInt8] = [0x00, 0x0F, 0x42, 0x40]                           // 1,000,000
        png += chunk("IHDR", side + side + [8, 0, 0, 0, 0]) + chunk("IDAT", [0x78, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + chunk("IEND", [])
        let url = ChapterRunner.scratchRoot.appendingPathComponent("huge-\(UUID().uuidString).png")
        try Data(png).write(to: url)
        let huge = try ChapterRunner.run("Chapter03-Forward", ["--quick", "--image", url.path])
        Self.expectRefused(huge, "claims 1000000 x 1000000 pixels", "huge PNG")
        let folder = try ChapterRunner.run("Chapter03-Forward", ["--quick", "--image", FileManager.default.temporaryDirectory.path])
        Self.expectRefused(folder, "is a folder, not a PNG file", "folder as image")
    }

    // MARK: The output folder

    @Test func failedRunsLeaveNoFolderAndEarlierOutputsUntouched() throws {
        let first = try ChapterRunner.run("Chapter01-Clusters", ["--quick"])
        #expect(first.status == 0)
        #expect(first.files == ["clusters.png", "run.json"])
        let before = try first.files.map { try Data(contentsOf: first.output.appendingPathComponent($0)) }
        let again = try ChapterRunner.run("Chapter01-Clusters", ["--quick", "--per-cluster", "1"], output: first.output)
        #expect(again.status == 1)
        #expect(again.files == first.files)
        #expect(try first.files.map { try Data(contentsOf: first.output.appendingPathComponent($0)) } == before)
        // Validation failure in a fresh folder: no folder at all.
        let fresh = try ChapterRunner.run("Chapter04-MLPDenoiser", ["--quick", "--lr=-1"])
        Self.expectRefused(fresh, "--lr", "bad --lr")
    }

    @Test func emptyOutputIsRefused() throws {
        let run = try ChapterRunner.run("Chapter01-Clusters", ["--quick", "--output", ""], passOutput: false)
        #expect(run.status != 0)
        #expect(errorLine(run).contains("--output is empty"), "\(run.stderr)")
    }

    @Test func runJSONSaysWhichRunWroteTheFolder() throws {
        let run = try ChapterRunner.run("Chapter01-Clusters", ["--quick", "--seed", "5", "--threads", "1"])
        #expect(run.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("run.json")))
        let top = try #require(json as? [String: Any])
        #expect(top["chapter"] as? String == "Chapter01-Clusters")
        #expect(top["arguments"] as? [String] == ["--quick", "--seed", "5"])      // --threads and --output left out
        #expect(top["seed"] as? Int == 5 && top["quick"] as? Bool == true)
    }

    @Test func aSecondChapterInTheSameFolderKeepsTheFirstRecord() throws {
        // Chapter 8's folder holds the model Chapter 6 trained there: both records must survive.
        let trained = try ChapterRunner.run("Chapter02-Schedules", ["--quick"])
        #expect(trained.status == 0)
        let first = try Data(contentsOf: trained.output.appendingPathComponent("run.json"))
        let second = try ChapterRunner.run("Chapter01-Clusters", ["--quick"], output: trained.output)
        #expect(second.status == 0)
        #expect(try Data(contentsOf: trained.output.appendingPathComponent("run.json")) == first)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: trained.output.appendingPathComponent("run-Chapter01-Clusters.json")))
        #expect((json as? [String: Any])?["chapter"] as? String == "Chapter01-Clusters")
    }

    @Test func staleTemporaryFilesOfKilledRunsAreSwept() throws {
        let folder = ChapterRunner.temporaryFolder("stale")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let dead = Int32.max - 3
        for name in [".clusters.png.tmp-\(dead)-99", ".unet.safetensors.\(dead).tmp"] {
            #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data([1])))
        }
        let run = try ChapterRunner.run("Chapter01-Clusters", ["--quick"], output: folder)
        #expect(run.status == 0)
        #expect(run.files == ["clusters.png", "run.json"])
    }

    @Test func explicitOptionsBeatQuick() throws {
        let run = try ChapterRunner.run("Chapter04-MLPDenoiser", ["--quick", "--epochs", "2", "--samples", "50"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("metrics.json")))
        #expect((json as? [String: Any])?["steps"] as? Int == 2 * 250)
        let csv = try String(contentsOf: run.output.appendingPathComponent("samples.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 51)
    }

    // MARK: Pipes and signals

    /// Starts `name` with stdout and stderr on pipes; the caller waits.
    static func start(_ name: String, _ arguments: [String]) throws -> (Process, Pipe, URL) {
        let folder = ChapterRunner.temporaryFolder(name)
        let process = Process()
        process.executableURL = try ChapterRunner.binary(name)
        process.arguments = arguments + ["--output", folder.path]
        process.currentDirectoryURL = ChapterRunner.root
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, out, folder)
    }

    @Test func outputIsLineBufferedInAPipe() throws {
        let (process, out, _) = try Self.start("Chapter05-UNet", ["--quick", "--steps", "20"])
        // The first line must arrive while the run is still going, not all at the end.
        let first = out.fileHandleForReading.availableData
        let stillRunning = process.isRunning
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(!first.isEmpty)
        #expect(stillRunning, "stdout arrived only when the process ended")
        #expect(process.terminationStatus == 0)
    }

    @Test func interruptedRunLeavesNoTemporaryFiles() throws {
        let (process, out, folder) = try Self.start("Chapter03-Forward", ["--every", "1", "--cat-every", "1"])
        // Wait for the first line (the run has started), then interrupt it while it writes GIFs.
        _ = out.fileHandleForReading.availableData
        Thread.sleep(forTimeInterval: 1.5)
        process.interrupt()                                                  // SIGINT
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // Ended by the signal (or finished first on a fast machine), not by an error about a vanished file.
        #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus == 0,
                "reason \(process.terminationReason.rawValue), status \(process.terminationStatus)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        #expect(!left.contains { $0.contains(".tmp") }, "left behind: \(left)")
    }
}
