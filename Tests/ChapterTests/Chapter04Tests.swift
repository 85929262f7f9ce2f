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
        // The theory checks: both sides of Eq. 12 agree, the four-step reverse step equals pSample's.
        #expect(run.stdout.contains("the same number, rounding apart"))
        let fourSteps = try #require(run.stdout.split(separator: "\n").first { $0.contains("four-step route") })
        let gap = try #require(Double(fourSteps.split(separator: " ").last ?? ""))
        #expect(gap < 1e-4, "\(fourSteps)")

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

    @Test func ablationsRepeatTheMainRunsRandomNumbers() throws {
        // The base row with seed s is the main run with --seed s: same metrics to the last bit.
        let run = try ChapterRunner.run(Self.name, ["--quick", "--ablations", "--ablation-seeds", "5"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.files.contains("ablations.png"))
        let rows = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("ablations.json"))) as? [[String: Any]])
        #expect(rows.count == 13)
        let main = try ChapterRunner.run(Self.name, ["--quick", "--seed", "5"])
        let top = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: main.output.appendingPathComponent("metrics.json"))) as? [String: Any])
        let base = try #require((rows[0]["metrics"] as? [[String: Any]])?.first)
        let metrics = try #require(top["metrics"] as? [String: Any])
        #expect(base["energyDistance"] as? Double == metrics["energyDistance"] as? Double)
        #expect(base["shares"] as? [Double] == metrics["shares"] as? [Double])
        let bad = try ChapterRunner.run(Self.name, ["--quick", "--ablations", "--ablation-seeds", "0,x"])
        #expect(bad.status == 1)
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
