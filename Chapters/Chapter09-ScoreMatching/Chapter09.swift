// Chapter 9 — Scores: the other road to diffusion models, and why it is the same road.
//
// The theory seed's second half (Song & Ermon 2019; Song et al. 2021) on the 8 clusters of
// Chapters 1 and 4, where the true density is known, so every step can be checked:
//
//   1. the score ∇ log p(x) of the clusters in closed form, and its field;
//   2. Langevin dynamics with the exact score: plain Langevin gets the clusters' weights
//      wrong, annealed Langevin (Algorithm 1) gets them right;
//   3. learning the score by denoising score matching, and sampling with it;
//   4. the bridge: Chapter 4's noise predictor is a score, −ε_θ/√(1 − ᾱ_t), so it samples
//      with Langevin corrector steps and with the probability-flow ODE as well.
//
//     swift run -c release Chapter09-ScoreMatching           # about 30 s on 2 cores
//
// The figures are in Plots.swift.

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter09: ParsableCommand {
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

    mutating func run() throws {
        try Bounds.check("--samples", samples ?? 1000, in: 10...100_000)
        try Bounds.check("--levels", levels, in: 2...1000)
        try Bounds.check("--steps-per-level", stepsPerLevel, in: 1...10_000)
        try Bounds.check("--train-steps", trainSteps ?? 8000, in: 1...1_000_000)
        try Bounds.check("--ode-stride", odeStride, in: 1...249)
        try Bounds.check("--batch-size", batchSize, in: 1...8000)
        try Bounds.check("--width", width, in: 2...4096)
        try Bounds.check("--levels × --steps-per-level", levels * stepsPerLevel, in: 1...1_000_000, "about ten minutes of Langevin steps")
        guard sigmaFirst > sigmaLast, sigmaLast > 0 else {
            throw ChapterError("--sigma-first must be larger than --sigma-last > 0, got \(sigmaFirst) and \(sigmaLast).")
        }
        guard snr > 0, epsilon.map({ $0 > 0 }) ?? true else { throw ChapterError("--snr and --epsilon must be positive.") }
        let count = common.value(samples, normal: 1000, quick: 300)
        let out = try common.start("Chapter09-ScoreMatching")
        var rng = RandomGenerator(seed: common.seed)
        let sigmas = geometricNoiseLevels(first: sigmaFirst, last: sigmaLast, count: levels)
        let eps = epsilon ?? 0.2 * sigmaLast * sigmaLast
        var results = Results(seed: common.seed, quick: common.quick)

        // MARK: 1. The exact score
        // The clusters are p(x) = Σ_k ⅛ N(x; c_k, 0.1² I). Noise of size σ widens each to
        // N(c_k, (0.1² + σ²) I), and the score is a pull towards the centres, each weighted
        // by how likely it is to have produced x (GaussianMixture2D.swift):
        //     ∇ log p_σ(x) = Σ_k r_k(x) (c_k − x) / (0.1² + σ²)
        let clusters = GaussianMixture2D.clusters()
        let probe = Tensor.rand([500, 2], low: -6, high: 6, using: &rng)                 // [500, 2]
        for sigma in [0.0, 0.5, 2.0] {
            let gap = finiteDifferenceGap(clusters, at: probe, sigma: sigma)
            print(String(format: "score at σ = %.1f: closed form against central differences of log p_σ, largest relative gap %.1e",
                         sigma, gap))
        }
        try scoreFieldFigure(clusters, sigmas: [0, 1, 4]).writePNG(to: out.file("score_field.png"))
        print("wrote \(out.display("score_field.png")): without noise the arrows point to the nearest cluster")

        // MARK: 2. Langevin dynamics with the exact score
        // Langevin: x ← x + (α/2) ∇ log p(x) + √α z. Take clusters of unequal weight (the first
        // holds 30 %, the others 10 % each) and start from uniform noise. Between clusters
        // p is ~0, so the score only says "go to the nearest cluster": each point stays where it
        // first falls, and the weights come out as the areas of the basins, not 30/10.
        let heavy = GaussianMixture2D.clusters(weights: [3, 1, 1, 1, 1, 1, 1, 1])
        let start = Tensor.rand([count, 2], low: -6, high: 6, using: &rng)              // [N, 2]
        let plain = langevinDynamics(score: { heavy.score($0) }, from: start, stepSize: 0.005, steps: 1000, using: &rng)
        // Annealed Langevin (Algorithm 1): first at σ_1 = 8, where p_σ is one broad blob and
        // points move freely, then at smaller and smaller σ, the step α_i = ε σ_i²/σ_L².
        let annealedExact = annealedLangevinDynamics(score: { heavy.score($0, sigma: $1) }, from: start, sigmas: sigmas,
                                                     stepsPerLevel: stepsPerLevel, epsilon: eps, denoiseAtEnd: denoise,
                                                     using: &rng)
        let target = heavy.sample(count: count, using: &rng)                            // [N, 2]
        for (name, x) in [("true weights", target), ("plain Langevin", plain), ("annealed Langevin", annealedExact)] {
            let shares = Toy2DMetrics.shares(Toy2DMetrics.nearestCentres(x, centres: heavy.floatCentres).index, count: 8)
            print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + " share of the 30 % cluster: "
                  + String(format: "%4.1f %%, the others %.1f–%.1f %%", 100 * shares[0], 100 * shares[1...].min()!,
                           100 * shares[1...].max()!))
            results.exactLangevinHeavyShare[name] = shares[0]
        }
        try checkFinite(plain, "plain Langevin (step size 0.005)")
        try checkFinite(annealedExact, "annealed Langevin with the exact score")
        try langevinFigure(target: target, plain: plain, annealed: annealedExact, centres: heavy.floatCentres)
            .writePNG(to: out.file("langevin.png"))
        print("wrote \(out.display("langevin.png"))")

        // MARK: 3. Learning the score: denoising score matching
        // We never know ∇ log p for real data, but we can perturb a data point, x̃ = x + σ z,
        // and ask s_θ(x̃, σ) to point back: ½ ‖σ s_θ(x̃, σ) + z‖² (Vincent 2011; σ²-weighted,
        // Song & Ermon Eq. 6). Its minimiser is the score of p_σ. σ is drawn log-uniform in
        // [σ_L, σ_1] for every point, so one network learns every level.
        let data = ToyDatasets.clusters(using: &rng)                                      // [8000, 2]
        let steps = common.value(trainSteps, normal: 8000, quick: 1500)
        let (network, dsmSeconds, finalLoss) = trainScoreNetwork(data.points, steps: steps, batch: batchSize, width: width, sigmaRange: (sigmaLast, sigmaFirst),
                                                                 using: &rng)
        print(String(format: "trained s_θ(x, σ) (%d parameters) for %d steps in %.1f s, final DSM loss %.3f",
                     network.parameterCount, steps, dsmSeconds, finalLoss))
        let learnedScore: (Tensor, Double) -> Tensor = { x, sigma in noGrad { network(x, sigma: sigma) } }
        let fieldSigmas = [0.1, 0.5, 2.0]
        for sigma in fieldSigmas {
            let at = clusters.sample(count: 2000, sigma: sigma, using: &rng)              // x ~ p_σ  [2000, 2]
            let error = relativeError(learnedScore(at, sigma), clusters.score(at, sigma: sigma))
            print(String(format: "  σ = %.1f: E‖s_θ − ∇log p_σ‖² / E‖∇log p_σ‖² = %.3f over x ~ p_σ", sigma, error))
            results.learnedScoreError[String(sigma)] = error
        }
        try fieldComparisonFigure(exact: { clusters.score($0, sigma: $1) }, learned: learnedScore, sigmas: fieldSigmas,
                                  learnedName: "learned s_θ(x, σ)").writePNG(to: out.file("learned_field.png"))
        print("wrote \(out.display("learned_field.png"))")

        // MARK: 4. The bridge: DDPM's noise predictor is a score
        // Chapter 4 trained ε_θ(x_t, t) to guess the noise in x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε. The best
        // guess is E[ε | x_t] = −√(1 − ᾱ_t) ∇ log q(x_t) (Tweedie): the same regression as above,
        // with σ s_θ = −ε_θ. Train Chapter 4's model again (same recipe and code) and read it as
        // a score of q(x_t), whose exact form we know: the clusters shrunk by √ᾱ_t, widened.
        var recipe = Toy2DRecipe.improved
        if common.quick { recipe.epochs = 20 }
        let ddpm = try trainToyDenoiser(recipe, points: data.points, using: &rng)
        let diffusion = ddpm.diffusion, T = diffusion.timesteps
        let alphaBar = diffusion.schedule.doubleArrays.alphasCumprod
        print(String(format: "trained Chapter 4's ε_θ (%@ recipe) for %d steps in %.1f s", "improved", ddpm.steps, ddpm.seconds))
        let bridgeSteps = [T / 25, T / 5, T / 2]
        for t in bridgeSteps {
            let qt = clusters.diffused(alphaBar: alphaBar[t])
            let at = qt.sample(count: 2000, using: &rng)                                   // x_t ~ q(x_t)  [2000, 2]
            let fromEps = ddpm.withSamplingWeights { diffusion.score(ddpm.model.callAsFunction, x: at, t: t) }
            let error = relativeError(fromEps, qt.score(at))
            print(String(format: "  t = %3d (√ᾱ = %.2f): −ε_θ/√(1 − ᾱ) against ∇log q(x_t): relative error %.3f",
                         t, alphaBar[t].squareRoot(), error))
            results.bridgeScoreError[String(t)] = error
        }
        try fieldComparisonFigure(exact: { x, t in clusters.diffused(alphaBar: alphaBar[Int(t)]).score(x) },
                                  learned: { x, t in ddpm.withSamplingWeights { diffusion.score(ddpm.model.callAsFunction, x: x, t: Int(t)) } },
                                  sigmas: bridgeSteps.map(Double.init), learnedName: "−ε_θ(xₜ, t)/√(1 − ᾱₜ)", levelName: "t")
            .writePNG(to: out.file("bridge.png"))
        print("wrote \(out.display("bridge.png"))")

        // MARK: 5. Four samplers, one set of numbers
        // (a) annealed Langevin with the learned s_θ; with Chapter 4's ε_θ: (b) DDPM's ancestral
        // sampling (Algorithm 2), (c) the same plus one Langevin corrector step per level
        // (predictor–corrector), (d) the probability-flow ODE, dx/dτ = −½β(τ)[x + ∇log q_τ(x)],
        // integrated with Heun's method from N(0, I): no noise at all after x_T.
        let noise = Tensor.randn([count, 2], using: &rng)                                  // x_T  [N, 2]
        let uniform = Tensor.rand([count, 2], low: -8, high: 8, using: &rng)              // [N, 2]
        var samplers: [(name: String, x: Tensor, seconds: Double, evaluations: Int)] = []
        func time(_ name: String, evaluations: Int, _ body: () -> Tensor) {
            let clock = Date()
            let x = body()
            samplers.append((name, x, Date().timeIntervalSince(clock), evaluations))
        }
        time("annealed Langevin, learned s_θ", evaluations: levels * stepsPerLevel + (denoise ? 1 : 0)) {
            annealedLangevinDynamics(score: learnedScore, from: uniform, sigmas: sigmas, stepsPerLevel: stepsPerLevel,
                                     epsilon: eps, denoiseAtEnd: denoise, using: &rng)
        }
        let model = ddpm.model.callAsFunction
        time("DDPM ancestral (Algorithm 2)", evaluations: T) {
            ddpm.withSamplingWeights {
                var x = noise
                for t in stride(from: T - 1, through: 0, by: -1) { x = diffusion.pSample(model, x: x, t: t, using: &rng) }
                return x
            }
        }
        time("predictor-corrector, r = \(snr)", evaluations: 2 * T - 1) {
            ddpm.withSamplingWeights { diffusion.predictorCorrectorSample(model, from: noise, snr: snr, using: &rng) }
        }
        let odeSteps = (T - 1 + odeStride - 1) / odeStride
        time("probability-flow ODE, Heun, \(odeSteps) steps", evaluations: 2 * odeSteps + 1) {
            ddpm.withSamplingWeights { diffusion.probabilityFlowSample(model, from: noise, stride: odeStride, solver: .heun) }
        }
        for s in samplers { try checkFinite(s.x, s.name) }
        print("\n  sampler                                    passes   seconds   within 0.5   energy distance (floor)   shares (%)")
        var panels: [(String, Tensor, Toy2DMetrics)] = []
        for s in samplers {
            let m = Toy2DMetrics.againstClusters(s.x, seed: common.seed)
            print("  " + s.name.padding(toLength: 42, withPad: " ", startingAt: 0)
                  + String(format: "%6d   %7.2f   %8.1f %%   %7.4f (%.4f)          ", s.evaluations, s.seconds,
                           100 * m.withinRadius, m.energyDistance, m.energyDistanceFloor)
                  + m.shares.map { String(format: "%.1f", 100 * $0) }.joined(separator: " "))
            panels.append((s.name, s.x, m))
            results.samplers.append(.init(name: s.name, networkPasses: s.evaluations, metrics: m))
        }
        try samplersFigure(panels, centres: clusters.floatCentres).writePNG(to: out.file("samplers.png"))
        try out.writeJSON(results, to: "metrics.json")
        print("wrote \(out.display("samplers.png"))\nwrote \(out.display("metrics.json"))")
    }
}

// MARK: - Helpers

/// What metrics.json holds: numbers only, no timings, so the same seed writes the same bytes.
struct Results: Encodable {
    struct Sampler: Encodable { var name: String; var networkPasses: Int; var metrics: Toy2DMetrics }
    var seed: UInt64
    var quick: Bool
    var exactLangevinHeavyShare: [String: Double] = [:]
    var learnedScoreError: [String: Double] = [:]
    var bridgeScoreError: [String: Double] = [:]
    var samplers: [Sampler] = []
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
func checkFinite(_ x: Tensor, _ name: String) throws {
    guard x.data.allSatisfy(\.isFinite) else {
        throw ChapterError("\(name) diverged (points went to infinity); lower --epsilon or --snr.")
    }
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

/// Trains s_θ by denoising score matching: batches of `batch` points, σ log-uniform in
/// [σ_L, σ_1] per point, Adam 2e-3 with a cosine decay to 2e-5.
func trainScoreNetwork(_ points: Tensor, steps: Int, batch: Int, width: Int, sigmaRange: (low: Double, high: Double),
                       using rng: inout RandomGenerator) -> (NoiseConditionalScoreMLP, Double, Float) {
    let network = NoiseConditionalScoreMLP(hidden: [width, width, width], rng: &rng)
    let optimizer = Adam(network.parameters(), lr: 2e-3)
    let schedule = LearningRateSchedule.cosine(peak: 2e-3, floor: 2e-5, steps: steps)
    let logLow = Foundation.log(sigmaRange.low), logHigh = Foundation.log(sigmaRange.high)
    let clock = Date()
    var recent: [Float] = []
    for step in 0..<steps {
        let x0 = points.indexSelect(rng.integers(count: batch, below: points.shape[0]), axis: 0)   // [B, 2]
        let sigmas = rng.uniform(count: batch).map { Foundation.exp(logLow + Double($0) * (logHigh - logLow)) }
        let z = Tensor.randn([batch, 2], using: &rng)                                              // [B, 2]
        optimizer.lr = schedule(step)
        optimizer.zeroGrad()
        let loss = denoisingScoreMatchingLoss({ network($0, sigmas: $1) }, x0: x0, sigmas: sigmas, noise: z)
        loss.backward()
        optimizer.step()
        recent.append(loss.item)
        if recent.count > 200 { recent.removeFirst() }
    }
    return (network, Date().timeIntervalSince(clock), recent.reduce(0, +) / Float(max(1, recent.count)))
}
