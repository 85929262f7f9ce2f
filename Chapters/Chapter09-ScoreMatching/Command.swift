import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

/// The command line of Chapter 9: its options, the checks made before any work, and the files
/// the lesson (Chapter09.swift) writes.
@main
struct Chapter09: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter09-ScoreMatching",
        abstract: "Scores of the 8 clusters: exact, learned by denoising score matching, and read off DDPM's noise predictor.")

    @OptionGroup var common: ChapterOptions
    @Option(parsing: .unconditional, help: "Points per sampler (default 1000, --quick 300).") var samples: Int?
    @Option(parsing: .unconditional, help: "The largest noise level σ_1 (about the data's diameter).") var sigmaFirst = 8.0
    @Option(parsing: .unconditional, help: "The smallest noise level σ_L.") var sigmaLast = 0.02
    @Option(parsing: .unconditional, help: "Number of noise levels L.") var levels = 10
    @Option(parsing: .unconditional, help: "Langevin steps per noise level.") var stepsPerLevel = 100
    @Option(parsing: .unconditional, help: "Step size ε at σ_L (α_i = ε σ_i²/σ_L²; default 0.2 σ_L²).") var epsilon: Double?
    @Flag(inversion: .prefixedNo, help: "End annealed Langevin with one noise-free Tweedie step x + σ_L² s(x, σ_L).")
    var denoise = true
    @Option(parsing: .unconditional, help: "Training steps of the score network (default 8000, --quick 1500).") var trainSteps: Int?
    @Option(parsing: .unconditional, help: "Points per training step of the score network.") var batchSize = 256
    @Option(parsing: .unconditional, help: "Hidden width of the score network (three SiLU layers).") var width = 64
    @Option(parsing: .unconditional, help: "Signal-to-noise ratio r of the predictor–corrector sampler's Langevin steps.")
    var snr = 0.16
    @Option(parsing: .unconditional, help: "Grid steps per probability-flow ODE step (Heun; 250/stride steps).") var odeStride = 5
    @Option(parsing: .unconditional, help: "Predictor steps N of the corrector study, comma-separated (each 1 to T/2 = 125).")
    var correctorSteps = "25,50,125"
    @Option(parsing: .unconditional, help: "Sampling seeds of the corrector study, comma-separated.") var correctorSeeds = "0,1,2,3,4"

    mutating func run() throws {
        try Bounds.check("--samples", samples ?? 1000, in: 10...100_000)
        try Bounds.check("--levels", levels, in: 2...1000)
        try Bounds.check("--steps-per-level", stepsPerLevel, in: 1...10_000)
        try Bounds.check("--train-steps", trainSteps ?? 8000, in: 1...1_000_000)
        try Bounds.check("--ode-stride", odeStride, in: 1...249)
        try Bounds.check("--batch-size", batchSize, in: 1...8000)
        try Bounds.check("--width", width, in: 2...4096)
        try Bounds.check("--levels × --steps-per-level", levels * stepsPerLevel, in: 1...1_000_000, "about ten minutes of Langevin steps")
        guard sigmaFirst.isFinite, sigmaFirst > sigmaLast, sigmaLast > 0 else {
            throw ChapterError("--sigma-first must be a finite number larger than --sigma-last > 0, got \(sigmaFirst) and \(sigmaLast).")
        }
        guard snr > 0, snr.isFinite, epsilon.map({ $0 > 0 && $0.isFinite }) ?? true else {
            throw ChapterError("--snr and --epsilon must be positive numbers.")
        }
        // A step size that makes annealed Langevin diverge is known before any work.
        let sigmas = geometricNoiseLevels(first: sigmaFirst, last: sigmaLast, count: levels)
        let eps = epsilon ?? 0.2 * sigmaLast * sigmaLast
        let growth = langevinGrowth(sigmas: sigmas, epsilon: eps)
        guard growth.isEmpty else {
            throw ChapterError("annealed Langevin would diverge with these settings\(growth); lower --epsilon.")
        }
        // The corrector study compares N predictor steps with 2N plain ones: 2N must fit in T.
        let T = TrainingRecipe.toyImproved.timesteps
        let studySteps = try parseList(correctorSteps, option: "--corrector-steps", expects: "whole numbers", example: "25,50,125") { Int($0) }
        if let bad = studySteps.first(where: { $0 < 1 || 2 * $0 > T }) {
            throw ChapterError("--corrector-steps \(bad) is out of range: each N must be 1 to \(T / 2), so that the reverse sampler "
                               + "with 2N steps fits in the T = \(T) steps; e.g. 25,50,125.")
        }
        let studySeeds = try parseList(correctorSeeds, option: "--corrector-seeds", expects: "whole numbers", example: "0,1,2") { UInt64($0) }
        let out = try common.start("Chapter09-ScoreMatching")
        try lesson(common.value(samples, normal: 1000, quick: 300), sigmas: sigmas, epsilon: eps,
                   study: (studySteps, studySeeds), out: out)
    }

    // MARK: - Files of the lesson

    /// Each sampler's points as samples-<slug>.csv (x,y per row).
    func saveSamples(_ samples: [(slug: String, x: Tensor)], out: OutputFolder) throws {
        for (slug, x) in samples {
            try out.writePointsCSV(x, to: "samples-\(slug).csv")
            print("wrote \(out.display("samples-\(slug).csv"))")
        }
    }

    func save(_ results: Results, out: OutputFolder) throws {
        try out.writeJSON(results, to: "metrics.json")
        print("wrote \(out.display("metrics.json"))")
    }
}

// MARK: - What metrics.json holds, and the checks

/// What metrics.json holds: numbers only, no timings, so the same seed writes the same bytes.
struct Results: Encodable {
    struct Sampler: Encodable { var name: String; var networkPasses: Int; var metrics: Toy2DMetrics }
    var seed: UInt64
    var quick: Bool
    var exactLangevinHeavyShare: [String: Double] = [:]
    var learnedScoreError: [String: Double] = [:]
    var bridgeScoreError: [String: Double] = [:]
    var samplers: [Sampler] = []
    var vincent: [VincentRow] = []
    var correctorStudy: [CorrectorStudyRow] = []
}

/// The largest relative gap between the closed-form score and central differences of log p_σ
/// (step 1e-4, in Double) at `points` [N, 2].
func finiteDifferenceGap(_ p: GaussianMixture2D, at points: Tensor, sigma: Double) -> Double {
    let closed = p.score(points, sigma: sigma)                                              // [N, 2]
    var worst = 0.0
    let h = 1e-4
    for i in 0..<points.shape[0] {
        let x = Double(points.data[2 * i]), y = Double(points.data[2 * i + 1])
        let gx = (p.logDensity(x: x + h, y: y, sigma: sigma) - p.logDensity(x: x - h, y: y, sigma: sigma)) / (2 * h)
        let gy = (p.logDensity(x: x, y: y + h, sigma: sigma) - p.logDensity(x: x, y: y - h, sigma: sigma)) / (2 * h)
        let scale = max(1, (gx * gx + gy * gy).squareRoot())
        worst = max(worst, abs(gx - Double(closed.data[2 * i])) / scale, abs(gy - Double(closed.data[2 * i + 1])) / scale)
    }
    return worst
}

/// One sentence instead of NaN figures when a sampler blew up (a step size too large).
func checkFinite(_ x: Tensor, _ name: String, why: String = "", remedy: String = "lower --epsilon or --snr") throws {
    guard x.data.allSatisfy(\.isFinite) else {
        throw ChapterError("\(name) diverged (points went to infinity\(why)); \(remedy).")
    }
}

/// Why annealed Langevin diverges, in one clause. Near a cluster of variance v = 0.1² + σ² the
/// score is −(x − c)/v, so a noise-free step x ← x + (α/2) s(x) multiplies the distance to the
/// centre by 1 − α/(2v): the chain is stable only while |1 − α/(2v)| < 1, i.e. α < 4v. With
/// α_i = ε σ_i²/σ_L² the worst level is returned (an empty string when every level is stable).
func langevinGrowth(sigmas: [Double], epsilon: Double) -> String {
    let sigmaL = sigmas.last!
    let factors = sigmas.map { sigma -> (Double, Double) in
        let alpha = epsilon * sigma * sigma / (sigmaL * sigmaL), v = 0.01 + sigma * sigma
        return (sigma, abs(1 - alpha / (2 * v)))
    }
    guard let worst = factors.max(by: { $0.1 < $1.1 }), worst.1 >= 1 else { return "" }
    return String(format: ": at σ = %g each step multiplies a point's distance to its cluster by |1 − α/(2(0.1² + σ²))| = %.1f, "
                  + "and the chain is stable only below 1", worst.0, worst.1)
}

/// E‖a − b‖² / E‖b‖² over the rows of a, b [N, 2].
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<a.count {
        let d = Double(a.data[i]) - Double(b.data[i])
        num += d * d
        den += Double(b.data[i]) * Double(b.data[i])
    }
    return num / max(den, 1e-30)
}
