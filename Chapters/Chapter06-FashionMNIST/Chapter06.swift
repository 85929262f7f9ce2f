// Chapter 6 — Training the U-Net on Fashion-MNIST: clothes out of noise.
//
// Everything is in place: the data (60,000 greyscale 28×28 images of clothes), the forward
// process q(x_t | x_0) of Chapter 3, the U-Net ε_θ(x_t, t) of Chapter 5, Adam. This chapter
// is the "Train the model" and "Sampling" sections of "The Annotated Diffusion Model":
//
//   Algorithm 1 (training), repeated for 6 epochs of batches of 128:
//       x_0 ~ data,  t ~ U{1, …, T},  ε ~ N(0, I)
//       gradient step on  ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²
//   Algorithm 2 (sampling):
//       x_T ~ N(0, I);  for t = T … 1:  x_{t−1} = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ(x_t, t)) + σ_t z
//
// and then measures what came out: which clothes (a classifier trained here names them) and
// how close their distribution is to the real one (a classifier-FID, beside the score of real
// images). Four recipes: `tutorial` (the post as published), `mindspore` (its MindSpore port, with
// its own U-Net), `tworesunet` (the TwoResUNet article) and `default` (the tutorial with the fixes
// the README measures); `--model annotated|mindspore|tworesunet` trains any recipe on any of the
// three U-Nets of Chapter 5. The options are in Command.swift and RecipeOptions.swift, the
// figures in Figures.swift, the classifier and its numbers in Evaluation.swift.
//
// Run:   swift run -c release Chapter06-FashionMNIST --sample-only     (the committed model, ~1 min)
//        swift run -c release Chapter06-FashionMNIST                   (train: see the README for times)
//        swift run -c release Chapter06-FashionMNIST --resume          (continue after Ctrl-C)

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter06 {
    /// The lesson, top to bottom: train (or load) ε_θ, sample with it, measure the samples.
    func lesson(_ recipe: TrainingRecipe, sampleCount: Int, out: OutputFolder) throws {
        let model: any NoiseModel, diffusion: GaussianDiffusion
        let weights: (recipe: TrainingRecipe, step: String)
        if sampleOnly {
            let loaded = try loadWeights(out: out, fallback: recipe)
            (model, diffusion, weights) = (loaded.model, loaded.diffusion, (loaded.recipe, loaded.step))
        } else {
            // MARK: 1. The data
            //
            // 60,000 training images, pixels 0…255 scaled to [−1, 1] (x/127.5 − 1: the model's
            // range, like the post's ToTensor() then t·2 − 1). The post flips them left-right
            // with p = ½ (`--flip yes`); the default does not, since every real shoe points left.
            let data = try reported { try FashionMNIST(split: .train, limit: limit ?? (common.quick ? 256 : nil)) }
            print("Fashion-MNIST: \(data.count) training images of \(data.rows)×\(data.cols)")

            // MARK: 2. Training (Algorithm 1)
            //
            // The trainer holds the model, Adam, the EMA and the run's random generator; a new run
            // or, with --resume, the run saved in the output folder, bit for bit.
            let trainer = try startTraining(recipe, data: data, out: out)
            let session = TrainingSession(training, out: out, totalSteps: trainer.totalSteps, step: trainer.step,
                                          defaultSampleEvery: common.quick ? 0 : 500)
            session.saveCheckpoint = { try TrainingCheckpoint.save(trainer, to: $0) }
            session.sampleGrid = { try saveProgressGrid(trainer, step: $0, out: out, seed: common.seed) }
            let (network, loss) = (trainer.model, trainer.lossFunction)
            while !trainer.finished {
                let (x0, labels) = trainer.nextBatch()                    // x_0 ~ data          [B, 1, 28, 28]
                let t = trainer.drawTimesteps(count: x0.shape[0])         // t ~ U{0, …, T − 1}  [B]
                let noise = Tensor.randn(x0.shape, using: &trainer.rng)   // ε ~ N(0, I)         [B, 1, 28, 28]
                let xt = trainer.diffusion.qSample(x0, t: t, noise: noise) // √ᾱ_t x_0 + √(1 − ᾱ_t) ε   [B, 1, 28, 28]
                let predicted = network.predictNoise(xt, t, labels: labels)   // ε_θ(x_t, t)    [B, 1, 28, 28]
                let value = try reported { try trainer.update(loss(predicted, noise)) }   // ∇θ, Adam, EMA
                try session.after(step: trainer.step, progressFields(trainer, loss: value))
            }
            session.finish()
            try saveTrainedModel(trainer, out: out)
            trainer.ema?.copyToParameters()        // sample with the weights kept for it: the EMA's, if any
            (model, diffusion, weights) = (trainer.model, trainer.diffusion, (trainer.recipe, "\(trainer.step)"))
        }

        // MARK: 3. Sampling (Algorithm 2)
        //
        // From x_T ~ N(0, I), T steps of pSample, batches of up to 128 images; the figures watch
        // the first batch (a GIF of it, and x_t beside the network's guess x̂_0).
        var rng = RandomGenerator(seed: common.seed &+ 2)
        let epsilon = model.noisePredictor                                       // ε_θ(x_t, t)
        let T = diffusion.timesteps, variance = weights.recipe.variance
        let figures = DenoisingFigures(timesteps: T, batches: (sampleCount + 127) / 128)
        var batches: [Tensor] = []
        for start in stride(from: 0, to: sampleCount, by: 128) {
            var x = Tensor.randn([min(128, sampleCount - start), 1, 28, 28], using: &rng)   // x_T  [n, 1, 28, 28]
            for t in (0..<T).reversed() {
                // x_{t−1} = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ(x_t, t)) + σ_t z   (Sampling/Ancestral.swift)
                x = diffusion.pSample(epsilon, x: x, t: t, variance: variance, using: &rng)
                figures.record(step: t, x, batch: batches.count)
            }
            batches.append(x)
        }
        let samples = Tensor.concat(batches, axis: 0)                            // [N, 1, 28, 28]
        try figures.write(samples, diffusion: diffusion, epsilon: epsilon, out: out)

        // MARK: 4. Evaluation: which clothes, and how real
        //
        // The course's classifier names each sample's class; the classifier-FID compares the
        // samples' features with the test images' (beside the score of as many real images).
        let metrics = try evaluate(samples: samples, source: "recipe \(weights.recipe.name), step \(weights.step)",
                                   mirroredTraining: weights.recipe.horizontalFlip, quick: common.quick)
        try save(metrics, as: "metrics.json", out: out)
    }
}
