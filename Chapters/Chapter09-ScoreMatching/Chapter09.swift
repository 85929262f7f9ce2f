// Chapter 9 — Scores: the other road to diffusion models, and why it is the same road.
//
// The theory seed's second half (Song & Ermon 2019; Song et al. 2021) on the 8 clusters of
// Chapters 1 and 4, where the true density is known, so every step can be checked:
//   1. the score ∇ log p(x) of the clusters in closed form, and its field;
//   2. Langevin dynamics with the exact score: plain Langevin gives the clusters the areas of
//      their basins, annealed Langevin (Algorithm 1) comes close to their weights, not all the
//      way (26.7 % for the 30 % cluster, seed 0);
//   3. learning the score by denoising score matching, and why it works (Theory.swift);
//   4. the bridge: Chapter 4's noise predictor is a score, −ε_θ/√(1 − ᾱ_t);
//   5. four samplers, and what the corrector buys at equal passes (CorrectorStudy.swift).
//
// The SDE view (the README's "The SDE view in one page"): DDPM's steps with β_t = β(τ)/T, T → ∞,
// are the VP SDE dx = −½β(τ) x dτ + √β(τ) dw; backwards in time (Anderson 1982) it needs only
// the score, dx = [−½β(τ) x − β(τ) ∇log p_τ(x)] dτ + √β(τ) dw̄; the probability-flow ODE
// dx/dτ = −½β(τ)[x + ∇log p_τ(x)] has the same marginals; and ∇log p_τ(x_t) ≈ −ε_θ/√(1 − ᾱ_t).
// Options: Command.swift; figures: Figures.swift.
//
//     swift run -c release Chapter09-ScoreMatching           (the README gives the time)

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter09 {
    /// The lesson, top to bottom: `sigmas` are the noise levels σ_1 > … > σ_L (geometric),
    /// `eps` the Langevin step size ε at σ_L, `study` the corrector study's predictor step counts
    /// and sampling seeds (all checked by Command.swift).
    func lesson(_ count: Int, sigmas: [Double], epsilon eps: Double, study: (steps: [Int], seeds: [UInt64]),
                out: OutputFolder) throws {
        var rng = RandomGenerator(seed: common.seed)
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
        try out.writePNG(scoreFieldFigure(clusters, sigmas: [0, 1, 4]), "score_field.png",
                         note: ": without noise the arrows point to the nearest cluster")

        // MARK: 2. Langevin dynamics with the exact score
        // Langevin: x ← x + (α/2) ∇ log p(x) + √α z. Take clusters of unequal weight (the first
        // holds 30 %, the others 10 % each) and start from uniform noise. Between clusters
        // p is ~0, so the score only says "go to the nearest cluster": each point stays where it
        // first falls, and the weights come out as the areas of the basins, not 30/10.
        let heavy = GaussianMixture2D.clusters(weights: [3, 1, 1, 1, 1, 1, 1, 1])
        let start = Tensor.rand([count, 2], low: -6, high: 6, using: &rng)              // [N, 2]
        let alpha: Float = 0.005
        var plain = start                                                               // [N, 2]
        for _ in 0..<1000 {
            let z = Tensor.randn(plain.shape, using: &rng)                              // z ~ N(0, I)  [N, 2]
            plain = noGrad { plain + (alpha / 2) * heavy.score(plain) + alpha.squareRoot() * z }
        }
        // Annealed Langevin (Algorithm 1): first at σ_1 = 8, where p_σ is one broad blob and
        // points move freely, then at smaller and smaller σ, the step α_i = ε σ_i²/σ_L²
        // (Scores/Langevin.swift: the same update, its step size set per level).
        let annealing = AnnealedLangevinSampler(sigmas: sigmas, stepsPerLevel: stepsPerLevel, epsilon: eps, denoiseAtEnd: denoise)
        let annealedExact = annealing.sample({ heavy.score($0, sigma: $1) }, from: start, using: &rng)   // [N, 2]
        let target = heavy.sample(count: count, using: &rng)                            // [N, 2]
        try checkFinite(plain, "plain Langevin (step size 0.005)")
        try checkFinite(annealedExact, "annealed Langevin with the exact score",
                        why: langevinGrowth(sigmas: sigmas, epsilon: eps), remedy: "lower --epsilon")
        for (name, x) in [("true weights", target), ("plain Langevin", plain), ("annealed Langevin", annealedExact)] {
            let shares = Toy2DMetrics.shares(Toy2DMetrics.nearestCentres(x, centres: heavy.floatCentres).index, count: 8)
            print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + " share of the 30 % cluster: "
                  + String(format: "%4.1f %%, the others %.1f–%.1f %%", 100 * shares[0], 100 * shares[1...].min()!,
                           100 * shares[1...].max()!))
            results.exactLangevinHeavyShare[name] = shares[0]
        }
        // Plain Langevin's shares are where the points started: the areas of the basins (the
        // start points nearest each centre), not the weights and not 1/8 each. The basins are
        // 45° wedges; in the square [−6, 6]² a wedge around an axis covers tan(22.5°)/4 of it.
        let basins = Toy2DMetrics.shares(Toy2DMetrics.nearestCentres(start, centres: heavy.floatCentres).index, count: 8)
        let onAxis = Foundation.tan(Double.pi / 8) / 4
        print("the basins' areas, the start points nearest each cluster (%): "
              + basins.map { String(format: "%.1f", 100 * $0) }.joined(separator: " ")
              + String(format: "; exactly %.1f %% on an axis, %.1f %% on a diagonal", 100 * onAxis, 100 * (1 - 4 * onAxis) / 4))
        try out.writePNG(langevinFigure(target: target, plain: plain, annealed: annealedExact, centres: heavy.floatCentres),
                  "langevin.png")

        // MARK: 3. Learning the score: denoising score matching
        // We never know ∇ log p for real data, but we can perturb a data point, x̃ = x + σ z,
        // and ask s_θ(x̃, σ) to point back: ½ ‖σ s_θ(x̃, σ) + z‖² (Vincent 2011; σ²-weighted,
        // Song & Ermon Eq. 6). Its minimiser is the score of p_σ. σ is drawn log-uniform in
        // [σ_L, σ_1] for every point, so one network learns every level (the loop: below).
        let data = ToyDatasets.clusters(using: &rng)                                      // [8000, 2]
        let steps = common.value(trainSteps, normal: 8000, quick: 1500)
        var initial = rng                               // a copy of the generator: `untrained` = s_θ's first weights
        let untrained = NoiseConditionalScoreMLP(hidden: [width, width, width], rng: &initial)
        let (network, dsmSeconds, finalLoss) = trainScoreNetwork(data.points, steps: steps, batch: batchSize, width: width,
                                                                 sigmaRange: (sigmaLast, sigmaFirst), using: &rng)
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
        try out.writePNG(fieldComparisonFigure(exact: { clusters.score($0, sigma: $1) }, learned: learnedScore, sigmas: fieldSigmas,
                                        learnedName: "learned s_θ(x, σ)"), "learned_field.png")
        // Why does regressing on −z/σ, the score of the noise kernel, learn ∇ log p_σ? Vincent (2011):
        // the DSM loss is the explicit one, E‖s_θ − ∇ log p_σ‖², plus a constant (Theory.swift).
        // Checked on this network and on the same one untrained, with their own generator.
        var theoryRng = RandomGenerator(seed: common.seed &+ 0x7E9)
        results.vincent = checkVincent(clusters, networks: [("s_θ untrained", { x, sigma in noGrad { untrained(x, sigma: sigma) } }),
                                                            ("s_θ trained", learnedScore)],
                                       sigmas: fieldSigmas, count: common.quick ? 20_000 : 200_000, using: &theoryRng)

        // MARK: 4. The bridge: DDPM's noise predictor is a score
        // Chapter 4 trained ε_θ(x_t, t) to guess the noise in x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε. The best
        // guess is E[ε | x_t] = −√(1 − ᾱ_t) ∇ log q(x_t) (Tweedie): the same regression as above,
        // with σ s_θ = −ε_θ. Train Chapter 4's model again (same recipe and trainer) and read it as
        // a score of q(x_t), whose exact form we know: the clusters shrunk by √ᾱ_t, widened.
        var recipe = TrainingRecipe.toyImproved
        if common.quick { recipe.epochs = 20 }
        let clock = Stopwatch()
        let ddpm = try reported {
            try DiffusionTrainer(recipe: recipe, model: recipe.makeModel(dataShape: data.points.shape, rng: &rng),
                                 dataset: data, rng: rng, seed: common.seed)
        }
        while !ddpm.finished { try reported { try ddpm.trainStep() } }
        rng = ddpm.rng
        let diffusion = ddpm.diffusion, T = diffusion.timesteps, model = ddpm.noisePredictor
        let alphaBar = diffusion.schedule.doubleArrays.alphasCumprod
        print(String(format: "trained Chapter 4's ε_θ (%@ recipe) for %d steps in %.1f s", "improved", ddpm.step, clock.seconds))
        let bridgeSteps = [T / 25, T / 5, T / 2]
        for t in bridgeSteps {
            let qt = clusters.diffused(alphaBar: alphaBar[t])
            let at = qt.sample(count: 2000, using: &rng)                                   // x_t ~ q(x_t)  [2000, 2]
            let fromEps = ddpm.withSamplingWeights { diffusion.score(model, x: at, t: t) }   // −ε_θ/√(1 − ᾱ_t)
            let error = relativeError(fromEps, qt.score(at))
            print(String(format: "  t = %3d (√ᾱ = %.2f): −ε_θ/√(1 − ᾱ) against ∇log q(x_t): relative error %.3f",
                         t, alphaBar[t].squareRoot(), error))
            results.bridgeScoreError[String(t)] = error
        }
        try out.writePNG(fieldComparisonFigure(exact: { x, t in clusters.diffused(alphaBar: alphaBar[Int(t)]).score(x) },
                                        learned: { x, t in ddpm.withSamplingWeights { diffusion.score(model, x: x, t: Int(t)) } },
                                        sigmas: bridgeSteps.map(Double.init), learnedName: "−ε_θ(xₜ, t)/√(1 − ᾱₜ)", levelName: "t"),
                  "bridge.png")

        // MARK: 5. Four samplers, one set of numbers
        // (a) annealed Langevin with the learned s_θ; with Chapter 4's ε_θ: (b) DDPM's ancestral
        // sampling (Algorithm 2), (c) the same plus one Langevin corrector step per level
        // (predictor–corrector; step ε = 2α (r‖z‖/‖s_θ‖)², r the "signal-to-noise ratio" of Song
        // et al.'s Algorithm 5), (d) the probability-flow ODE, dx/dτ = −½β(τ)[x + ∇log q_τ(x)],
        // integrated with Heun's method from N(0, I) (an Euler step, then the average of the slopes
        // at its two ends: two passes per step): no noise at all after x_T. Each is a `Sampler`
        // (timesteps and one step); one loop runs them all.
        let noise = Tensor.randn([count, 2], using: &rng)                                  // x_T  [N, 2]
        let uniform = Tensor.rand([count, 2], low: -8, high: 8, using: &rng)              // [N, 2]
        var runs: [(name: String, slug: String, x: Tensor, seconds: Double, passes: Int)] = []
        func run<S: Sampler>(_ name: String, _ slug: String, _ sampler: S, _ model: S.Model, from x: Tensor) {
            let clock = Stopwatch()
            let x = ddpm.withSamplingWeights { sampler.sample(model, from: x, using: &rng) }
            runs.append((name, slug, x, clock.seconds, sampler.networkPasses))
        }
        run("annealed Langevin, learned s_θ", "annealed-langevin", annealing, learnedScore, from: uniform)
        run("DDPM ancestral (Algorithm 2)", "ddpm-ancestral", DDPMSampler(diffusion), model, from: noise)
        run("predictor-corrector, r = \(snr)", "predictor-corrector", PredictorCorrectorSampler(diffusion, snr: snr), model, from: noise)
        let ode = ProbabilityFlowSampler(diffusion, stride: odeStride, solver: .heun)
        run("probability-flow ODE, Heun, \(ode.timesteps.count - 1) steps", "probability-flow-ode", ode, model, from: noise)
        for r in runs { try checkFinite(r.x, r.name) }
        print("\n  sampler                                    passes   seconds   within 0.5   energy distance (real data)   shares (%)")
        var panels: [(String, Tensor, Toy2DMetrics)] = []
        for r in runs {
            let m = Toy2DMetrics.againstClusters(r.x, seed: common.seed)
            print("  " + r.name.padding(toLength: 42, withPad: " ", startingAt: 0)
                  + String(format: "%6d   %7.2f   %8.1f %%   %7.4f (%.4f)          ", r.passes, r.seconds,
                           100 * m.withinRadius, m.energyDistance, m.energyDistanceFloor)
                  + m.shares.map { String(format: "%.1f", 100 * $0) }.joined(separator: " "))
            panels.append((r.name, r.x, m))
            results.samplers.append(.init(name: r.name, networkPasses: r.passes, metrics: m))
        }
        try out.writePNG(samplersFigure(panels, centres: clusters.floatCentres), "samplers.png")
        try saveSamples(runs.map { ($0.slug, $0.x) }, out: out)

        // Does the corrector pay for its passes? PC with N predictor steps (2N − 1 passes) against
        // the reverse sampler with 2N steps (as many passes) and with N, over several sampling seeds.
        results.correctorStudy = correctorStudy(ddpm, predictorSteps: study.steps, seeds: study.seeds, count: count, snr: snr)
        try save(results, out: out)
    }
}

/// Trains s_θ by denoising score matching: batches of `batch` points, σ log-uniform in
/// [σ_L, σ_1] per point, Adam 2e-3 with a cosine decay to 2e-5.
func trainScoreNetwork(_ points: Tensor, steps: Int, batch: Int, width: Int, sigmaRange: (low: Double, high: Double),
                       using rng: inout RandomGenerator) -> (NoiseConditionalScoreMLP, Double, Float) {
    let network = NoiseConditionalScoreMLP(hidden: [width, width, width], rng: &rng)
    let optimizer = Adam(network.parameters(), lr: 2e-3)
    let schedule = LearningRateSchedule.cosine(peak: 2e-3, floor: 2e-5, steps: steps)
    let logLow = Foundation.log(sigmaRange.low), logHigh = Foundation.log(sigmaRange.high)
    let clock = Stopwatch()
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
    return (network, clock.seconds, recent.reduce(0, +) / Float(max(1, recent.count)))
}
