import Diffusion
import Foundation
import TinyTensor

// MARK: - What the corrector buys, at equal network passes
//
// A predictor–corrector sampler with N predictor steps makes 2N − 1 network passes (one
// Langevin corrector step after every predictor step but the last). Its fair rival is the plain
// reverse sampler with as many passes, 2N steps; the same sampler with N steps says what the
// corrector adds to its own predictor. All three are `PredictorCorrectorSampler` on the trailing
// grid of N or 2N of the T steps (with no corrector steps for the plain ones: with all T steps
// that is Algorithm 2 itself), start from the same x_T for a given sampling seed, and are judged
// by the same 2-D metrics, as mean ± standard deviation over the seeds.

/// One sampler of the study (metrics.json): its predictor steps, corrector steps per level,
/// network passes, and the metrics for each sampling seed.
struct CorrectorStudyRow: Encodable {
    var sampler: String
    var predictorSteps: Int
    var correctorSteps: Int
    var networkPasses: Int
    var seeds: [UInt64]
    var metrics: [Toy2DMetrics]
}

/// Runs the study on the trained ε_θ for each N of `predictorSteps` and each sampling seed of
/// `seeds` (x_T and every later draw from RandomGenerator(seed: 0xC0DE_0000 + seed), so the
/// draws do not depend on --seed, which picks the trained model), `count` points each; prints
/// the table and returns its rows.
func correctorStudy(_ ddpm: DiffusionTrainer, predictorSteps: [Int], seeds: [UInt64], count: Int, snr: Double)
    -> [CorrectorStudyRow] {
    let diffusion = ddpm.diffusion, T = diffusion.timesteps
    var rows: [CorrectorStudyRow] = [], measured: [String: [Toy2DMetrics]] = [:]
    print("\nwhat the corrector buys: sampling seeds \(seeds.map(String.init).joined(separator: ", ")), \(count) points each, "
          + "mean ± standard deviation over the seeds")
    print("  sampler                                    passes   within 0.5 (%)   energy distance    shares (%)")
    for n in predictorSteps {
        let configurations = [("predictor-corrector, r = \(snr), \(n) steps", n, 1),
                              ("reverse (Algorithm 2), \(2 * n) steps", 2 * n, 0),
                              ("reverse (Algorithm 2), \(n) steps", n, 0)]
        for (name, steps, corrector) in configurations {
            let sampler = PredictorCorrectorSampler(diffusion, steps: TimestepSpacing.trailing.timesteps(count: steps, of: T),
                                                    correctorSteps: corrector, snr: snr)
            let metrics = measured[name] ?? seeds.map { seed -> Toy2DMetrics in
                var rng = RandomGenerator(seed: 0xC0DE_0000 &+ seed)
                let xT = Tensor.randn([count, 2], using: &rng)                                 // x_T  [N, 2]
                let x = ddpm.withSamplingWeights { sampler.sample(ddpm.noisePredictor, from: xT, using: &rng) }   // [N, 2]
                return Toy2DMetrics.againstClusters(x, seed: seed)
            }
            measured[name] = metrics
            rows.append(CorrectorStudyRow(sampler: name, predictorSteps: steps, correctorSteps: corrector,
                                          networkPasses: sampler.networkPasses, seeds: seeds, metrics: metrics))
            let shares = metrics.flatMap(\.shares).map { 100 * $0 }
            print("  " + name.padding(toLength: 42, withPad: " ", startingAt: 0) + String(format: "%5d", sampler.networkPasses)
                  + "    " + spread(metrics.map { 100 * $0.withinRadius }, "%.1f").padding(toLength: 17, withPad: " ", startingAt: 0)
                  + spread(metrics.map(\.energyDistance), "%.4f").padding(toLength: 19, withPad: " ", startingAt: 0)
                  + String(format: "%.1f–%.1f", shares.min() ?? 0, shares.max() ?? 0))
        }
    }
    print("  the score of real data (fresh real points, as many, against the same reference): "
          + spread(rows.first?.metrics.map(\.energyDistanceFloor) ?? [], "%.4f"))
    return rows
}

/// "mean ± standard deviation" of `v` in `format`.
func spread(_ v: [Double], _ format: String) -> String {
    let n = Double(v.count), mean = v.reduce(0, +) / n
    let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, n - 1)).squareRoot()
    return String(format: "\(format) ± \(format)", mean, sd)
}
