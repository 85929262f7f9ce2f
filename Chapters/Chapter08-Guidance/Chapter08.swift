// Chapter 8 — Guidance: ask for a sneaker.
//
// Chapter 6's U-Net with one change, a learned vector per class (and one for "no class", ∅)
// added to its time embedding, trained by Chapter 6's own trainer with each label replaced by
// ∅ one time in ten:
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
// classifier-FID how varied and real the samples still are.
//
//     swift run -c release Chapter08-Guidance          # 64 minutes on a 2-core Zen 3 (AVX2)

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter08: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter08-Guidance",
        abstract: "Class-conditional sampling: classifier-free guidance and classifier guidance, and what they cost.")

    @OptionGroup var common: ChapterOptions
    @Option(help: "The class-conditional weights (default: <output>/unet.safetensors).")
    var checkpoint: String?
    @Option(help: "Classifier-free guidance scales w of the measured sweep (default 0,1,2,3,5,7).") var scales: String?
    @Option(help: "Scales w of the 10 × 8 grids (default 0,1,3,7,15).") var gridScales: String?
    @Option(help: "Classifier-guidance scales s of the measured sweep (default 0,1,3,10,30).") var classifierScales: String?
    @Option(help: "Images per scale in the sweeps (default 250, --quick 20).") var samples: Int?
    @Option(help: "DDIM steps (η = 0, trailing spacing) of every sampler (default 50, --quick 4).") var steps: Int?
    @Option(help: "Epochs of the noisy-image classifier when it is (re)trained (default 3).") var classifierEpochs: Int?
    @Flag(help: "Train the noisy-image classifier even if <output>/noisy_classifier.safetensors exists.")
    var trainClassifier = false
    @Flag(help: "Clip the predicted x̂_0 to [−1, 1] at every DDIM step (static thresholding), so strong guidance cannot push pixels out of range.")
    var clip = false
    @Flag(help: "Only redraw <output>/tradeoff.png from <output>/metrics.json (after editing the figure), without sampling.")
    var replot = false

    mutating func run() throws {
        let sweep = try parseScales(scales ?? "0,1,2,3,5,7", "--scales")
        let grid = try parseScales(gridScales ?? "0,1,3,7,15", "--grid-scales")
        let classifierSweep = try parseScales(classifierScales ?? "0,1,3,10,30", "--classifier-scales")
        let n = common.value(samples, normal: 250, quick: 20)
        let stepCount = common.value(steps, normal: 50, quick: 4)
        try Bounds.check("--samples", n, in: 10...5000)
        try Bounds.check("--steps", stepCount, in: 1...1000)
        try Bounds.check("--classifier-epochs", classifierEpochs ?? 3, in: 1...50)
        let out = try common.start("Chapter08-Guidance")
        if replot { return try redrawTradeoff(out) }

        // MARK: 1. The class-conditional model
        let url = URL(fileURLWithPath: checkpoint ?? out.file("unet.safetensors").path)
        let loaded: LoadedDenoiser
        do { loaded = try LoadedDenoiser(contentsOf: url, fallback: .conditional) } catch {
            throw ChapterError("cannot load \(url.path): \(error); train it with Chapter06-FashionMNIST --recipe conditional --output \(out.url.path), or pass --checkpoint.")
        }
        guard let model = loaded.conditionalPredictor, let classes = loaded.recipe.numClasses, classes == 10 else {
            throw ChapterError("\(url.lastPathComponent) is not a class-conditional model of the 10 classes; train one with --recipe conditional.")
        }
        let d = loaded.diffusion, T = d.timesteps
        guard stepCount <= T else { throw ChapterError("--steps must be at most T = \(T), got \(stepCount).") }
        let ddimSteps = TimestepSpacing.trailing.timesteps(count: stepCount, of: T)
        print("loaded \(url.lastPathComponent): recipe \(loaded.recipe.name), step \(loaded.step), T = \(T), "
              + "label dropout \(loaded.recipe.labelDropout ?? 0); sampling with DDIM, \(stepCount) steps"
              + (clip ? ", x̂_0 clipped to [−1, 1]" : ""))
        let evaluation: CourseEvaluator
        do { evaluation = try CourseEvaluator(quick: common.quick) } catch { throw ChapterError("\(error)") }
        // The judge: how often Chapter 6's classifier is right on real test images, class by class.
        // Every Fashion-MNIST shoe points left; the model, trained on images mirrored half the
        // time, draws them either way, and the classifier calls a mirrored ankle boot a bag. So
        // it judges each image as drawn and mirrored (`predictEitherWay`); `predict` is "as drawn".
        let test = evaluation.test
        let testLabels = test.labels.map(Int.init)
        let judged = evaluation.evaluation.classifier.predictBothWays(test.images(Array(0..<test.count)))
        var realClassAccuracy: [[Double]] = []
        for (rule, predicted) in [("judged either way", judged.eitherWay), ("as they are", judged.asDrawn)] {
            realClassAccuracy.append(perClassAccuracy(predicted: predicted, labels: testLabels))
            print(String(format: "the judge, Chapter 6's classifier, on %d real test images %@: %.1f %% right; weakest: ",
                         test.count, rule, 100 * fractionRight(predicted: predicted, labels: testLabels))
                  + weakest(realClassAccuracy.last!))
        }

        // Every sampler below starts from the same x_T: image i asks for class i mod 10.
        var noiseRng = RandomGenerator(seed: common.seed &+ 8)
        let xT = Tensor.randn([n, 1, 28, 28], using: &noiseRng)                            // [n, 1, 28, 28]
        let asked = (0..<n).map { $0 % 10 }

        // MARK: 2. Classifier-free guidance
        // ε̃ = ε_∅ + w (ε_y − ε_∅) = w ε_y + (1 − w) ε_∅, both predictions from one pass over [x; x].
        func cfg(_ w: Double, _ x: Tensor, _ labels: [Int]) -> Tensor {
            var rng = RandomGenerator(seed: 0)                                             // η = 0 draws nothing
            return d.ddimSampleLoop(classifierFreeGuidance(model, labels: labels, nullLabel: classes, scale: w),
                                    from: x, steps: ddimSteps, clip: clip, using: &rng)
        }
        let gridNoise = xT.slice(0..<min(80, n))                                             // [80, 1, 28, 28]
        let gridLabels = (0..<gridNoise.shape[0]).map { $0 / 8 }                           // row = class
        var grids: [(String, Tensor)] = []
        for w in grid { grids.append((String(format: "w = %g", w), cfg(w, gridNoise, gridLabels))) }
        try gridsFigure(grids, title: "Classifier-free guidance: one row per class, the same x_T in every panel")
            .writePNG(to: out.file("cfg_grids.png"))
        print("wrote \(out.display("cfg_grids.png"))")

        var rows: [Row] = []
        print("\nclassifier-free guidance, \(n) images per scale (accuracy: Chapter 6's classifier sees the asked class):")
        for w in sweep {
            let clock = Stopwatch()
            rows.append(measure("classifier-free", w, cfg(w, xT, asked), asked: asked, evaluation, seconds: clock.seconds))
        }

        // MARK: 3. Classifier guidance
        // A classifier of noisy images, trained here on x_t at random t (cached in the output
        // folder), and its gradient ∇_x log p_φ(y | x_t, t) added to the unconditional ε_∅.
        let classifier = try noisyClassifier(d, out: out)
        let unconditional: NoisePredictor = { x, t in model(x, t, Array(repeating: classes, count: x.shape[0])) }
        func guided(_ s: Double, _ x: Tensor, _ labels: [Int]) -> Tensor {
            var rng = RandomGenerator(seed: 0)
            let gradient: (Tensor, [Int]) -> Tensor = { x, t in classifier.logProbabilityGradient(x, t, labels: labels) }
            return d.ddimSampleLoop(d.classifierGuidedNoisePredictor(unconditional, gradient: gradient, scale: s),
                                    from: x, steps: ddimSteps, clip: clip, using: &rng)
        }
        var classifierGrids: [(String, Tensor)] = []
        for s in classifierSweep.filter({ $0 > 0 }).suffix(3) {
            classifierGrids.append((String(format: "s = %g", s), guided(s, gridNoise, gridLabels)))
        }
        try gridsFigure(classifierGrids, title: "Classifier guidance of the unconditional prediction: one row per class")
            .writePNG(to: out.file("classifier_grids.png"))
        print("wrote \(out.display("classifier_grids.png"))")
        print("\nclassifier guidance, \(n) images per scale:")
        for s in classifierSweep {
            // s = 0 samples ε_∅ alone: exactly the images of w = 0, so that row is reused, not sampled again.
            if s == 0, let unguided = rows.first(where: { $0.guidance == "classifier-free" && $0.scale == 0 }) {
                rows.append(unguided.relabelled("classifier"))
                print("  classifier      scale   0.0   the images of w = 0 (ε_∅ alone), not sampled twice")
                continue
            }
            let clock = Stopwatch()
            rows.append(measure("classifier", s, guided(s, xT, asked), asked: asked, evaluation, seconds: clock.seconds))
        }
        try tradeoffFigure(rows).writePNG(to: out.file("tradeoff.png"))
        print("wrote \(out.display("tradeoff.png"))")

        // MARK: 4. One class, step by step
        // Eight sneakers (class 7) at w = 3, every DDIM step a frame, the last held.
        var frames: [Tensor] = []
        var rng = RandomGenerator(seed: 0)
        let sneakers = xT.slice(0..<8)                                                        // [8, 1, 28, 28]
        _ = d.ddimSampleLoop(classifierFreeGuidance(model, labels: Array(repeating: 7, count: 8), nullLabel: classes, scale: 3),
                             from: sneakers, steps: ddimSteps, clip: clip, using: &rng) { _, x in frames.append(x) }
        let canvases = ([sneakers] + frames).map { ImageGrid.make($0, nrow: 8, padding: 2, scale: 3) }
        try GIFWriter.write(frames: canvases, delays: Array(repeating: 8, count: canvases.count - 1) + [250],
                            to: out.file("sneaker.gif"))
        try out.writeJSON(Summary(source: "recipe \(loaded.recipe.name), step \(loaded.step)", samplesPerScale: n,
                                  ddimSteps: stepCount, clipped: clip ? true : nil,
                                  realClassAccuracy: realClassAccuracy[0], realClassAccuracyAsDrawn: realClassAccuracy[1],
                                  rows: rows), to: "metrics.json")
        print("wrote \(out.display("sneaker.gif"))\nwrote \(out.display("metrics.json"))")
    }
}
