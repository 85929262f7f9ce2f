import Foundation
import Testing

/// Chapter 4 end to end: `--quick` writes every figure and file with sensible numbers; bad
/// flags end in one sentence and a non-zero exit code.
@Suite struct Chapter04Tests {
    static let name = "Chapter04-MLPDenoiser"

    @Test func quickRunWritesFiguresSamplesAndMetrics() throws {
        let run = try ChapterRunner.run(Self.name, ["--quick", "--seed", "3"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for file in ["loss.png", "noise_prediction.png", "samples.png", "reverse.gif", "samples.csv", "metrics.json"] {
            #expect(run.files.contains(file), "missing \(file); wrote \(run.files)")
        }
        #expect(run.stdout.contains("within 0.5 of a centre"))

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("metrics.json")))
        let top = try #require(json as? [String: Any])
        let metrics = try #require(top["metrics"] as? [String: Any])
        let shares = try #require(metrics["shares"] as? [Double])
        #expect(shares.count == 8)
        #expect(Swift.abs(shares.reduce(0, +) - 1) < 1e-9)
        let within = try #require(metrics["withinRadius"] as? Double)
        #expect(within >= 0 && within <= 1)
        let distance = try #require(metrics["energyDistance"] as? Double)
        let floor = try #require(metrics["energyDistanceFloor"] as? Double)
        #expect(distance >= 0 && floor >= 0 && floor < 0.1)
        #expect((top["steps"] as? Int) == 4 * 250)
        #expect(((top["signalLeftAtT"] as? Double) ?? 1) < 0.01)     // the 1000/T rescale

        let csv = try String(contentsOf: run.output.appendingPathComponent("samples.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "x,y")
        #expect(lines.count == 301)                                  // --quick samples 300 points
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",").compactMap { Double($0) }.count == 2 })
    }

    @Test func sameSeedSameSamplesWhateverTheThreads() throws {
        let a = try ChapterRunner.run(Self.name, ["--quick", "--threads", "1"])
        let b = try ChapterRunner.run(Self.name, ["--quick", "--threads", "2"])
        #expect(a.status == 0 && b.status == 0)
        for file in ["samples.csv", "samples.png", "loss.png", "reverse.gif"] {
            #expect(FileManager.default.contentsEqual(atPath: a.output.appendingPathComponent(file).path,
                                                      andPath: b.output.appendingPathComponent(file).path), "\(file)")
        }
    }

    @Test(arguments: [["--epochs", "0"], ["--lr=-1"], ["--schedule", "wiggly"], ["--shuffle", "sometimes"]])
    func badFlagsExitWithOneSentence(_ arguments: [String]) throws {
        let run = try ChapterRunner.run(Self.name, arguments + ["--quick"])
        #expect(run.status != 0)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(run.stderr)")
        #expect(errorLine(run).hasPrefix("Error: "))
    }
}
