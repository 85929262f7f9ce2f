// Chapter 4 — An MLP learns to denoise, and the reverse process turns noise into clusters.
//
// The 2D tutorial (InFoCusp) in Swift: a small network ε_θ(x_t, t) is trained to predict the
// noise that the forward process added to a point (Algorithm 1 of Ho et al. 2020), and the
// reverse process (Algorithm 2) walks 1000 points of pure noise back to the 8 clusters:
//
//   Algorithm 1:  x_0 ~ data,  t ~ U{1, …, T},  ε ~ N(0, I),
//                 gradient step on ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²
//   Algorithm 2:  x_T ~ N(0, I);  x_{t−1} = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ(x_t, t)) + σ_t z
//
// Read this file top to bottom. Theory.swift derives why predicting ε is enough (and checks it
// on the trained model), Ablations.swift measures what matters; the options are in Command.swift,
// the pictures in Figures.swift.
//
//     swift run -c release Chapter04-MLPDenoiser                    # the improved recipe
//     swift run -c release Chapter04-MLPDenoiser --recipe tutorial  # the tutorial's, as published
//     swift run -c release Chapter04-MLPDenoiser --ablations        # + what matters, in one figure

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter04 {
    /// The lesson, top to bottom.
    func lesson(_ recipe: TrainingRecipe, sampleCount: Int, out: OutputFolder) throws {
        // MARK: 1. The data: 8 clusters × 1000 points, sd 0.1, centres on a circle of radius 4 (Chapter 1)
        var rng = RandomGenerator(seed: common.seed)
        let data = ToyDatasets.clusters(using: &rng)                                   // [8000, 2]
        printRecipe(recipe, points: data.count)

        // MARK: 2. The model and Algorithm 1
        //
        // The MLP of the tutorial (Models/MLPDenoiser.swift), initialised from the same generator,
        // and the trainer that holds Adam, the learning-rate schedule and the epoch's shuffle.
        let model = recipe.makeModel(dataShape: data.points.shape, rng: &rng)          // ε_θ: MLPDenoiser
        let trainer = try reported { try DiffusionTrainer(recipe: recipe, model: model, dataset: data, rng: rng,
                                                          seed: common.seed) }
        let diffusion = trainer.diffusion, T = diffusion.timesteps
        let clock = Stopwatch()
        while !trainer.finished {
            let (x0, _) = trainer.nextBatch()                                  // x_0 ~ data          [B, 2]
            let t = trainer.drawTimesteps(count: x0.shape[0])                  // t ~ U{0, …, T − 1}  [B]
            let noise = Tensor.randn(x0.shape, using: &trainer.rng)            // ε ~ N(0, I)         [B, 2]
            let xt = diffusion.qSample(x0, t: t, noise: noise)                 // √ᾱ_t x_0 + √(1 − ᾱ_t) ε   [B, 2]
            let loss = trainer.lossFunction(model.predictNoise(xt, t, labels: nil), noise)   // ‖ε − ε_θ(x_t, t)‖²
            try reported { try trainer.update(loss) }                          // ∇θ, an Adam step
            if trainer.batchInEpoch == 0 { printEpoch(trainer) }
        }
        rng = trainer.rng
        print(String(format: "trained %d steps in %.1f s (%.3f ms per step)", trainer.step, clock.seconds,
                     1000 * clock.seconds / Double(trainer.step)))

        // MARK: 3. How good is the noise prediction? Fresh (x_0, t, ε): ε_θ(x_t, t) against ε
        let (x0, t, eps) = drawProbe(data, timesteps: T, using: &rng)                  // [2000, 2], t, [2000, 2]
        let predicted = trainer.withSamplingWeights {
            noGrad { trainer.noisePredictor(diffusion.qSample(x0, t: t, noise: eps), t) }   // [2000, 2]
        }

        // Why is predicting ε enough? The ELBO's KL terms are, exactly, weighted noise errors
        // (Eq. 12), and Algorithm 2's one-line update is the 2D tutorial's four steps (x̂_0, then
        // the posterior of Chapter 3). Theory.swift has the derivation; here both are checked on
        // this model, with their own generator so that the numbers below do not move.
        var theoryRng = RandomGenerator(seed: common.seed &+ 0x7E0)
        checkObjective(trainer, data: data, using: &theoryRng)
        checkFourSteps(trainer, using: &theoryRng)

        // MARK: 4. The reverse process (Algorithm 2) from N(0, I), keeping every step for the GIF
        let sampling = Stopwatch()
        var x = Tensor.randn([sampleCount, 2], using: &rng)                            // x_T ~ N(0, I)  [N, 2]
        var trajectory = [x]
        trainer.withSamplingWeights {
            for t in (0..<T).reversed() {
                // x_{t−1} = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ(x_t, t)) + σ_t z   (Sampling/Ancestral.swift)
                x = diffusion.pSample(trainer.noisePredictor, x: x, t: t, variance: recipe.variance, using: &rng)
                trajectory.append(x)                                                   // x_{t−1}  [N, 2]
            }
        }
        print(String(format: "sampled %d points through %d steps in %.3f s", sampleCount, T, sampling.seconds))

        // MARK: 5. Numbers: share per cluster, fraction within 0.5 of a centre, energy distance
        let metrics = evaluate(x, centres: data.centres, seed: common.seed)
        printMetrics(metrics)
        try writeFiles(trainer, samples: x, trajectory: trajectory, probe: (predicted, eps, t), metrics: metrics,
                       data: data, out: out)

        // MARK: 6. What matters? One model per setting and seed, one panel each (Ablations.swift)
        if ablations { try runAblations(base: recipe, sampleCount: sampleCount, seeds: try ablationSeedList(), out: out) }
    }
}

/// 2000 fresh (x_0, t, ε) for the noise-prediction figure. The ablations draw them too, so
/// every run of a recipe uses the same random numbers as the main run of that recipe.
func drawProbe(_ data: ToyDataset, timesteps: Int, using rng: inout RandomGenerator) -> (x0: Tensor, t: [Int], eps: Tensor) {
    let probe = 2000
    let rows = rng.integers(count: probe, below: data.count)
    let x0 = data.points.indexSelect(rows, axis: 0)                                    // [2000, 2]
    let t = rng.integers(count: probe, below: timesteps)
    let eps = Tensor.randn([probe, 2], using: &rng)                                    // [2000, 2]
    return (x0, t, eps)
}
