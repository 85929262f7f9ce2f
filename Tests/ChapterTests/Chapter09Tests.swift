import Foundation
import Testing

/// Chapter 9 end to end with `--quick`: every figure, each sampler's points and the metrics are
/// written, the closed form agrees with finite differences, annealing finds the heavy cluster,
/// Vincent's identity holds within Monte Carlo error, every sampler puts its points on the
/// clusters, the same seed writes the same bytes whatever the threads.
@Suite struct Chapter09Tests {
    static let name = "Chapter09-ScoreMatching"

    @Test func quickRunWritesFiguresAndMeasuresEverySampler() throws {
        let run = try ChapterRunner.run(Self.name, ["--quick", "--threads", "2"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for file in ["score_field.png", "langevin.png", "learned_field.png", "bridge.png", "samplers.png", "metrics.json"] {
            #expect(run.files.contains(file), "missing \(file); wrote \(run.files)")
        }
        // Each sampler's points as CSV: a header x,y, then one parseable row per sample (--quick: 300).
        for slug in ["annealed-langevin", "ddpm-ancestral", "predictor-corrector", "probability-flow-ode"] {
            let name = "samples-\(slug).csv"
            #expect(run.files.contains(name), "missing \(name); wrote \(run.files)")
            let lines = try String(contentsOf: run.output.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")
            #expect(lines.first == "x,y", "\(name)")
            let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map { Float($0) } }
            #expect(rows.count == 300, "\(name): \(rows.count) rows")
            #expect(rows.allSatisfy { $0.count == 2 && $0.allSatisfy { $0?.isFinite == true } }, "\(name)")
        }
        let gaps = run.stdout.split(separator: "\n").filter { $0.contains("largest relative gap") }
        #expect(gaps.count == 3)
        for line in gaps { #expect((Double(line.split(separator: " ").last ?? "") ?? 1) < 1e-3, "\(line)") }

        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("metrics.json"))) as? [String: Any])
        let heavy = try #require(json["exactLangevinHeavyShare"] as? [String: Double])
        #expect(try #require(heavy["plain Langevin"]) < 0.2)
        #expect(try #require(heavy["annealed Langevin"]) > 0.2)            // --quick: 300 points
        let samplers = try #require(json["samplers"] as? [[String: Any]])
        #expect(samplers.count == 4)
        for s in samplers {
            let m = try #require(s["metrics"] as? [String: Any])
            #expect(try #require(m["withinRadius"] as? Double) > 0.5, "\(s["name"] ?? "")")   // --quick trains little
        }
        let bridge = try #require(json["bridgeScoreError"] as? [String: Double])
        #expect(bridge.count == 3 && bridge.values.allSatisfy { $0 < 0.5 }, "\(bridge)")
        #expect(try #require(json["learnedScoreError"] as? [String: Double]).count == 3)

        // Vincent's identity: per σ, the two networks' L_DSM − L_ESM agree within 4 standard errors
        // of their paired gap, while their L_ESM differ by far more than that error (--quick trains
        // little: the untrained network's L_ESM is about 2.4 times the trained one's at σ = 0.1).
        let vincent = try #require(json["vincent"] as? [[String: Any]])
        #expect(vincent.count == 6)
        for pair in stride(from: 0, to: vincent.count - 1, by: 2) {
            let untrained = vincent[pair], trained = vincent[pair + 1]
            let gap = try #require(trained["gapToFirst"] as? Double), error = try #require(trained["gapError"] as? Double)
            #expect(abs(gap) < 4 * error, "σ = \(trained["sigma"] ?? ""): gap \(gap) ± \(error)")
            let apart = try #require(untrained["esm"] as? Double) - #require(trained["esm"] as? Double)
            #expect(apart > 20 * error, "σ = \(trained["sigma"] ?? ""): L_ESM apart by \(apart), error \(error)")
        }
        // The corrector study: three samplers per N (25, 50, 125), each on five sampling seeds.
        let study = try #require(json["correctorStudy"] as? [[String: Any]])
        #expect(study.count == 9)
        #expect(study.allSatisfy { ($0["metrics"] as? [Any])?.count == 5 })
        #expect(study.prefix(3).compactMap { $0["networkPasses"] as? Int } == [49, 50, 25])

        let again = try ChapterRunner.run(Self.name, ["--quick", "--threads", "1"])
        for name in ["metrics.json", "samples-ddpm-ancestral.csv", "samples-probability-flow-ode.csv"] {
            #expect(try Data(contentsOf: again.output.appendingPathComponent(name)) == Data(contentsOf: run.output.appendingPathComponent(name)),
                    "\(name)")
        }
    }

    /// The issue's bar, with the defaults (about 25 s): the learned score's annealed Langevin
    /// sampler meets Chapter 4's quality bar, and Chapter 4's ε_θ read as a score is close to
    /// the exact score of q(x_t).
    @Test func defaultRunMeetsTheQualityBar() throws {
        let run = try ChapterRunner.run(Self.name, [])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("metrics.json"))) as? [String: Any])
        let samplers = try #require(json["samplers"] as? [[String: Any]])
        let langevin = try #require(samplers.first?["metrics"] as? [String: Any])
        #expect(try #require(langevin["withinRadius"] as? Double) >= 0.99)
        #expect(try #require(langevin["shares"] as? [Double]).allSatisfy { abs($0 - 0.125) <= 0.035 })
        let floor = try #require(langevin["energyDistanceFloor"] as? Double)
        #expect(try #require(langevin["energyDistance"] as? Double) <= 1.5 * floor)
        for s in samplers.dropFirst() {
            let m = try #require(s["metrics"] as? [String: Any])
            #expect(try #require(m["withinRadius"] as? Double) >= 0.98, "\(s["name"] ?? "")")
        }
        let bridge = try #require(json["bridgeScoreError"] as? [String: Double])
        #expect(bridge.values.allSatisfy { $0 < 0.05 }, "\(bridge)")
        let heavy = try #require(json["exactLangevinHeavyShare"] as? [String: Double])
        let annealed = try #require(heavy["annealed Langevin"])             // 26.7 % with seed 0 (30 % minus freezing)
        #expect(annealed > 0.22 && annealed < 0.34, "\(annealed)")
    }

    @Test func badInputEndsInOneSentence() throws {
        for args in [["--quick", "--sigma-last", "9"], ["--quick", "--levels", "1"], ["--quick", "--snr", "-1"],
                     ["--quick", "--ode-stride", "0"], ["--quick", "--epsilon", "10"], ["--levels", "1000", "--steps-per-level", "5000"],
                     ["--quick", "--corrector-steps", "200"], ["--quick", "--corrector-seeds", "0,x"]] {
            let run = try ChapterRunner.run(Self.name, args)
            #expect(run.status == 1, "\(args)")
            #expect(errorLine(run).hasPrefix("Error: "), "\(args): \(run.stderr)")
        }
    }
}
