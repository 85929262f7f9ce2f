import Foundation
import Testing

/// The probes of a careful and hostile user on chapters 6–9: a resume that does not match is
/// refused with every difference named and nothing written; numbers that cannot work are
/// refused before any work; a diverging run stops with one sentence; usage errors exit 1.
@Suite struct HostileUserTests {
    static let six = "Chapter06-FashionMNIST"
    static let tiny = ["--quick", "--limit", "32", "--batch-size", "8", "--samples", "2"]

    /// A folder's files and their bytes, to show a refused run changed nothing.
    static func snapshot(_ folder: URL) -> [String: Data] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return Dictionary(uniqueKeysWithValues: names.map { ($0, (try? Data(contentsOf: folder.appendingPathComponent($0))) ?? Data()) })
    }

    static func expectOneSentence(_ run: ChapterRun, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1, "status \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.split(separator: "\n").count == 1 && errorLine(run).hasPrefix("Error: ")
                && errorLine(run).contains(phrase), "\(run.stderr)", sourceLocation: sourceLocation)
    }

    @Test func resumeWithOtherOptionsIsRefusedAndWritesNothing() throws {
        let first = try ChapterRunner.run(Self.six, Self.tiny + ["--model", "mindspore", "--stop-after", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let before = Self.snapshot(first.output)
        let otherModel = try ChapterRunner.run(Self.six, Self.tiny + ["--resume", "--block", "convnext", "--stop-after", "1"],
                                               output: first.output)
        Self.expectOneSentence(otherModel, "model: annotated vs mindspore")
        let otherEpochs = try ChapterRunner.run(Self.six, Self.tiny + ["--model", "mindspore", "--resume", "--epochs", "4"],
                                                output: first.output)
        Self.expectOneSentence(otherEpochs, "epochs: 4 vs 1")
        let conditional = try ChapterRunner.run(Self.six, Self.tiny + ["--resume", "--recipe", "conditional"], output: first.output)
        Self.expectOneSentence(conditional, "numClasses: 10 vs none")
        #expect(Self.snapshot(first.output) == before)                  // run.json and the checkpoint untouched
    }

    /// Trained weights are not trained over by accident: a second training into the same folder is
    /// refused (nothing changed) unless it resumes or asks for --overwrite.
    @Test func trainedWeightsAreNotOverwritten() throws {
        let first = try ChapterRunner.run(Self.six, Self.tiny)
        #expect(first.status == 0 && first.files.contains("unet.safetensors"), "\(first.stderr)")
        let before = Self.snapshot(first.output)
        let again = try ChapterRunner.run(Self.six, Self.tiny, output: first.output)
        Self.expectOneSentence(again, "already holds trained weights")
        #expect(Self.snapshot(first.output) == before)
        let replaced = try ChapterRunner.run(Self.six, Self.tiny + ["--overwrite", "--seed", "1"], output: first.output)
        #expect(replaced.status == 0, "\(replaced.stderr)")
    }

    @Test func nothingIsWrittenBeforeTheChecks() throws {
        for (chapter, arguments, phrase) in [
            (Self.six, Self.tiny + ["--resume"], "found no"),
            (Self.six, ["--quick", "--samples", "1"], "--samples must be between 2"),
            (Self.six, ["--quick", "--batch-size", "1024", "--dim", "256"], "lower --batch-size or --dim"),
            ("Chapter07-FastSampling", ["--quick", "--figure-steps", "0"], "--figure-steps must be between 1"),
            ("Chapter09-ScoreMatching", ["--quick", "--sigma-first", "inf"], "--sigma-first must be a finite number"),
            ("Chapter09-ScoreMatching", ["--quick", "--epsilon", "8e-3"], "would diverge with these settings: at σ = 8"),
        ] {
            let run = try ChapterRunner.run(chapter, arguments)
            Self.expectOneSentence(run, phrase)
            #expect(!FileManager.default.fileExists(atPath: run.output.path), "\(chapter) \(arguments) created its folder")
        }
    }

    @Test func usageErrorsExitOne() throws {
        for arguments in [["--no-such-flag"], ["--threads", "0"], ["--samples=-1"], ["--figure-steps", "x"]] {
            let run = try ChapterRunner.run("Chapter07-FastSampling", ["--quick"] + arguments)
            Self.expectOneSentence(run, "Error: ")
        }
        let empty = try ChapterRunner.run("Chapter07-FastSampling", ["--quick", "--output", ""], passOutput: false)
        Self.expectOneSentence(empty, "--output")
    }

    @Test func aPathTooLongLeavesNoFolders() throws {
        let base = ChapterRunner.temporaryFolder("long")
        let long = (0..<25).reduce(base.path) { path, _ in path + "/" + String(repeating: "d", count: 200) }
        let run = try ChapterRunner.run(Self.six, ["--quick", "--output", long], passOutput: false)
        Self.expectOneSentence(run, "too long")
        #expect(!FileManager.default.fileExists(atPath: base.path))
    }

    @Test func aDivergingRunStopsWithOneSentence() throws {
        let run = try ChapterRunner.run(Self.six, ["--quick", "--limit", "64", "--batch-size", "8", "--samples", "2",
                                                   "--lr", "0.9", "--warmup", "0"])
        Self.expectOneSentence(run, "diverged")
        #expect(errorLine(run).contains("lower --lr"))
        #expect(!run.files.contains("unet.safetensors") && !run.files.contains("metrics.json"), "\(run.files)")
    }

    @Test func evaluateRefusesPixelsAndNaNs() throws {
        let folder = ChapterRunner.temporaryFolder("evaluate")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func file(_ values: [Float]) throws -> String {
            // One tensor "samples" [2, 1, 28, 28] in the safetensors layout.
            let header = #"{"samples":{"dtype":"F32","shape":[2,1,28,28],"data_offsets":[0,\#(values.count * 4)]}}"#
            var data = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) } + Data(header.utf8)
            values.withUnsafeBytes { data.append(contentsOf: $0) }
            let url = folder.appendingPathComponent("\(UUID().uuidString).safetensors")
            try data.write(to: url)
            return url.path
        }
        let pixels = try ChapterRunner.run(Self.six, ["--quick", "--evaluate", try file((0..<1568).map { Float($0 % 256) })])
        Self.expectOneSentence(pixels, "values from 0 to 255")
        var withNaN = [Float](repeating: 0, count: 1568)
        withNaN[7] = .nan
        let nan = try ChapterRunner.run(Self.six, ["--quick", "--evaluate", try file(withNaN)])
        Self.expectOneSentence(nan, "1 values that are not finite")
    }
}
