// Chapter 8 — Guidance: ask for a sneaker.
//
// Chapter 6's U-Net with one change, a learned vector per class (and one for "no class", ∅)
// added to its time embedding, trained by Chapter 6's own training loop with each label
// replaced by ∅ one time in ten:
//
//     swift run -c release Chapter06-FashionMNIST --recipe conditional --output output/Chapter08-Guidance
//
// The same network then predicts the noise of an image of class y, ε_θ(x_t, t, y), and of an
// image of any class, ε_θ(x_t, t, ∅). This chapter asks it for classes two ways and measures
// the price:
//
//   1. classifier-free guidance (Ho & Salimans 2022):   ε̃ = ε_∅ + w (ε_y − ε_∅)
//      (w = 0: unconditional, w = 1: plainly conditional, w > 1: beyond it);
//   2. classifier guidance (Dhariwal & Nichol 2021): a classifier of noisy images p_φ(y | x_t, t)
//      pushes the unconditional prediction towards y, ε̂ = ε_∅ − s √(1 − ᾱ_t) ∇ log p_φ(y | x_t, t).
//
// Chapter 6's classifier then says how often a sample is the class that was asked for, and the
// classifier-FID how varied and real the samples still are. The options are in Command.swift,
// the measurements in Measures.swift, the figures in Figures.swift.
//
//     swift run -c release Chapter08-Guidance          (the README gives the time)

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter08 {
    /// The lesson, top to bottom.
    func lesson(_ settings: Settings, out: OutputFolder) throws {
        // MARK: 1. The class-conditional model, and the judge
        let (loaded, model) = try loadConditionalModel(out: out, steps: settings.steps)
        let d = loaded.diffusion, null = loaded.recipe.numClasses!                     // ∅ is label 10
        let sampler = DDIMSampler(d, steps: TimestepSpacing.trailing.timesteps(count: settings.steps, of: d.timesteps),
                                  clip: clip)
        let evaluation = try loadEvaluator()
        let realAccuracy = judgeRealImages(evaluation)
        let realDefective = judgeDefectRule(evaluation)

        // Every sampler below starts from the same x_T: image i asks for class i mod 10. DDIM with
        // η = 0 draws no random numbers after x_T.
        var noiseRng = RandomGenerator(seed: common.seed &+ 8)
        let xT = Tensor.randn([settings.samples, 1, 28, 28], using: &noiseRng)        // [n, 1, 28, 28]
        let asked = (0..<settings.samples).map { $0 % 10 }
        func sample(_ epsilon: @escaping NoisePredictor, from x: Tensor) -> Tensor {
            var rng = RandomGenerator(seed: 0)                                          // η = 0 draws nothing
            return sampler.sample(epsilon, from: x, using: &rng)
        }

        // MARK: 2. Classifier-free guidance
        //
        // One pass over the batch twice, [x; x] with labels [y; ∅], gives ε_y and ε_∅; the guided
        // noise extrapolates from the second towards the first. Written as w ε_y + (1 − w) ε_∅,
        // both ends are exact: w = 0 is ε_∅ and w = 1 is ε_y, bit for bit.
        func classifierFree(_ w: Double, labels: [Int]) -> NoisePredictor {
            { x, t in
                let b = x.shape[0]
                let both = model(Tensor.concat([x, x], axis: 0), t + t, labels + Array(repeating: null, count: b))
                let halves = both.chunk(2)                                              // ε_y, ε_∅  [B, 1, 28, 28] each
                return Float(w) * halves[0] + (1 - Float(w)) * halves[1]                // ε̃ = w ε_y + (1 − w) ε_∅
            }
        }
        let probeLabels = Array(asked.prefix(4))
        checkAgainstLibrary(classifierFree(3, labels: probeLabels),
                            classifierFreeGuidance(model, labels: probeLabels, nullLabel: null, scale: 3), "classifierFreeGuidance", xT, d)
        let gridNoise = xT.slice(0..<min(80, settings.samples))                          // [80, 1, 28, 28]
        let gridLabels = (0..<gridNoise.shape[0]).map { $0 / 8 }                        // row = class
        let grids = settings.gridScales.map { w in
            (String(format: "w = %g", w), sample(classifierFree(w, labels: gridLabels), from: gridNoise))
        }
        try out.writePNG(gridsFigure(grids, title: "Classifier-free guidance: one row per class, the same x_T in every panel"),
                  "cfg_grids.png")
        var rows: [Row] = []
        print("\nclassifier-free guidance, \(settings.samples) images per scale (accuracy: Chapter 6's classifier sees the asked class):")
        for w in settings.scales {
            let clock = Stopwatch()
            let images = sample(classifierFree(w, labels: asked), from: xT)              // [n, 1, 28, 28]
            rows.append(measure("classifier-free", w, images, asked: asked, evaluation, seconds: clock.seconds))
            try saveSamples(images, asked: asked, name: String(format: "samples-w%g", w), out: out)
        }

        // MARK: 3. Classifier guidance
        //
        // By Bayes, ∇ log p(x_t | y) = ∇ log p(x_t) + ∇ log p_φ(y | x_t, t), and ε_θ = −√(1 − ᾱ_t) ∇ log p(x_t)
        // (Chapter 9), so the classifier's gradient moves the unconditional noise prediction:
        // ε̂ = ε_∅ − s √(1 − ᾱ_t) ∇ log p_φ(y | x_t, t). The classifier of noisy images is trained
        // here on x_t at random t (and kept in the output folder).
        let classifier = try noisyClassifier(d, out: out)
        let unconditional: NoisePredictor = { x, t in model(x, t, Array(repeating: null, count: x.shape[0])) }   // ε_∅
        let sqrtOneMinusAlphaBar = d.schedule.doubleArrays.sqrtOneMinusAlphasCumprod
        func classifierGuided(_ s: Double, labels: [Int]) -> NoisePredictor {
            { x, t in
                let epsilon = noGrad { unconditional(x, t) }                            // ε_∅         [B, 1, 28, 28]
                guard s != 0 else { return epsilon }
                let g = classifier.logProbabilityGradient(x, t, labels: labels)         // ∇ log p_φ   [B, 1, 28, 28]
                let scale = Tensor(t.map { Float(s * sqrtOneMinusAlphaBar[$0]) }, shape: [t.count, 1, 1, 1])
                return noGrad { epsilon - scale * g }                                   // ε̂           [B, 1, 28, 28]
            }
        }
        checkAgainstLibrary(classifierGuided(3, labels: probeLabels), d.classifierGuidedNoisePredictor(unconditional, gradient: {
            classifier.logProbabilityGradient($0, $1, labels: probeLabels) }, scale: 3), "classifierGuidedNoisePredictor", xT, d)
        // MARK: 3b. The classifier inside classifier-free guidance
        //
        // Bayes again: p(y | x_t) ∝ p(x_t | y) / p(x_t), so ∇ log p(y | x_t) = ∇ log p(x_t | y) − ∇ log p(x_t)
        // = −(ε_y − ε_∅)/√(1 − ᾱ_t): the two noise predictions hold an implicit classifier. The guided
        // ε̃ = ε_∅ + w (ε_y − ε_∅) is then the noise of ∇ log p(x_t | y) + (w − 1) ∇ log p(y | x_t), the
        // score of p(x_t | y) p(y | x_t)^(w − 1): classifier guidance with scale w − 1 and this classifier.
        // Check: on noised test images, the implicit gradient points where the trained noisy
        // classifier's gradient for the true class points, and less so for another class.
        let probe = evaluation.test.images(Array(0..<64))                               // [64, 1, 28, 28]
        let truth = (0..<64).map { Int(evaluation.test.labels[$0]) }
        print("\nthe implicit classifier −(ε_y − ε_∅)/√(1 − ᾱ_t) against ∇ log p_φ(y | x_t) of the noisy classifier,"
              + " mean cosine over 64 noised test images:")
        for t in [d.timesteps / 10, d.timesteps / 3, 2 * d.timesteps / 3] {
            var rng = RandomGenerator(seed: common.seed &+ 10)
            let steps = Array(repeating: t, count: probe.shape[0])
            let xt = d.qSample(probe, t: steps, using: &rng)                                // [64, 1, 28, 28]
            let halves = noGrad { model(Tensor.concat([xt, xt], axis: 0), steps + steps,
                                        truth + Array(repeating: null, count: truth.count)) }.chunk(2)
            let implicit = noGrad { (halves[1] - halves[0]) * Float(1 / sqrtOneMinusAlphaBar[t]) }   // [64, 1, 28, 28]
            let explicit = classifier.logProbabilityGradient(xt, steps, labels: truth)       // [64, 1, 28, 28]
            let other = classifier.logProbabilityGradient(xt, steps, labels: truth.map { ($0 + 1) % 10 })
            print(String(format: "  t = %3d:  with the true class's gradient %.2f, with the next class's %.2f",
                         t, meanCosine(implicit, explicit), meanCosine(implicit, other)))
        }

        let classifierGrids = settings.classifierScales.filter { $0 > 0 }.suffix(3).map { s in
            (String(format: "s = %g", s), sample(classifierGuided(s, labels: gridLabels), from: gridNoise))
        }
        try out.writePNG(gridsFigure(classifierGrids, title: "Classifier guidance of the unconditional prediction: one row per class"),
                  "classifier_grids.png")
        print("\nclassifier guidance, \(settings.samples) images per scale:")
        for s in settings.classifierScales {
            // s = 0 samples ε_∅ alone: exactly the images of w = 0, so that row is reused, not sampled again.
            if s == 0, let unguided = rows.first(where: { $0.guidance == "classifier-free" && $0.scale == 0 }) {
                rows.append(unguided.relabelled("classifier"))
                print("  classifier      scale   0.0   the images of w = 0 (ε_∅ alone, samples-w0.safetensors), not sampled twice")
                continue
            }
            let clock = Stopwatch()
            let images = sample(classifierGuided(s, labels: asked), from: xT)            // [n, 1, 28, 28]
            rows.append(measure("classifier", s, images, asked: asked, evaluation, seconds: clock.seconds))
            try saveSamples(images, asked: asked, name: String(format: "samples-s%g", s), out: out)
        }
        try out.writePNG(tradeoffFigure(rows), "tradeoff.png")

        // MARK: 4. One class, step by step
        //
        // Eight sneakers (class 7) at w = 3, every DDIM step a frame, the last held.
        var frames: [Tensor] = []
        var rng = RandomGenerator(seed: 0)
        let sneakers = xT.slice(0..<8)                                                    // [8, 1, 28, 28]
        _ = sampler.sample(classifierFree(3, labels: Array(repeating: 7, count: 8)), from: sneakers, using: &rng) { _, x in
            frames.append(x)
        }
        try writeSneakerGIF([sneakers] + frames, out: out)
        try save(Summary(source: "recipe \(loaded.recipe.name), step \(loaded.step)", samplesPerScale: settings.samples,
                         ddimSteps: settings.steps, clipped: clip ? true : nil, realClassAccuracy: realAccuracy[0],
                         realClassAccuracyAsDrawn: realAccuracy[1], realDefective: realDefective, rows: rows), out: out)
    }

    /// The guided ε written above against the library's, on a few images at three steps: they must agree to the bit.
    func checkAgainstLibrary(_ ours: NoisePredictor, _ library: NoisePredictor, _ name: String, _ x: Tensor,
                             _ d: GaussianDiffusion) {
        let probe = x.slice(0..<min(4, x.shape[0]))
        let same = [d.timesteps - 1, d.timesteps / 2, 0].allSatisfy { t in
            let steps = Array(repeating: t, count: probe.shape[0])
            return ours(probe, steps).data == library(probe, steps).data
        }
        print("the guided ε written here and the library's \(name): " + (same ? "the same, bit for bit" : "DIFFERENT"))
    }
}
