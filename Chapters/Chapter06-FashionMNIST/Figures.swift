import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - Sampling and training figures

/// The figures of the sampling loop: a GIF of the first batch denoising (about 60 frames,
/// denser near t = 0, where the clothes take shape), and x_t beside the network's guess x̂_0
/// at t = 0.9 T, 0.7 T, …, 0.1 T for its first four images; a progress line meanwhile.
final class DenoisingFigures {
    let timesteps: Int
    let frameSteps: Set<Int>
    /// The x̂_0 figure shows x_t at these (paper) steps t.
    let shownSteps: [Int]
    var frames: [Canvas] = []
    var shown: [Int: Tensor] = [:]
    let progress: ProgressLine
    let clock = Stopwatch()
    let batches: Int

    init(timesteps T: Int, batches: Int) {
        timesteps = T
        self.batches = batches
        frameSteps = Set((0..<60).map { k in Int((Double(T - 1) * pow(1 - Double(k) / 59, 2)).rounded()) })
        shownSteps = [0.9, 0.7, 0.5, 0.3, 0.1].map { max(1, Int((Double(T) * $0).rounded())) }
        progress = ProgressLine(total: T * batches, label: "sampling step")
    }

    /// After the step of index t of batch `batch`: x is x_t in the paper's numbering.
    func record(step t: Int, _ x: Tensor, batch: Int) {
        progress.update(batch * timesteps + (timesteps - t))
        guard batch == 0 else { return }
        if frameSteps.contains(t) { frames.append(gridCanvas(x, first: 16, nrow: 4, scale: 3)) }
        if shownSteps.contains(t) { shown[t] = x.slice(0..<min(4, x.shape[0]), axis: 0) }   // [4, 1, 28, 28]
    }

    /// samples.png, denoising.gif, x0_predictions.png and the samples as a tensor.
    func write(_ samples: Tensor, diffusion: GaussianDiffusion, epsilon: NoisePredictor, out: OutputFolder) throws {
        progress.finish()
        let count = samples.shape[0], T = timesteps
        print(String(format: "sampled %d images in %@ (%d steps, %.2f s per step per batch)", count,
                     ProgressLine.duration(clock.seconds), T, clock.seconds / Double(T * batches)))
        try ImageGrid.make(samples.slice(0..<min(64, count), axis: 0), nrow: 8, padding: 2, scale: 4).writePNG(to: out.file("samples.png"))
        try GIFWriter.write(frames: frames, delays: frames.indices.map { $0 == frames.count - 1 ? 250 : 8 },
                            to: out.file("denoising.gif"))
        let xhat = noGrad { shownSteps.map { t -> Tensor in
            let x = shown[t]!                                                      // [4, 1, 28, 28]
            let index = Array(repeating: t - 1, count: x.shape[0])                 // x_t enters the step of index t − 1
            return diffusion.predictStartFromNoise(x, t: index, noise: epsilon(x, index))
        } }
        try predictionFigure(steps: shownSteps, xt: shownSteps.map { shown[$0]! }, x0: xhat).writePNG(to: out.file("x0_predictions.png"))
        try SafeTensors.write([("samples", samples)], metadata: ["range": "[-1, 1]", "shape": "[N, 1, 28, 28]"],
                              to: out.file("samples.safetensors"))
        for name in ["samples.png", "denoising.gif", "x0_predictions.png", "samples.safetensors"] { print("wrote \(out.display(name))") }
    }

    /// The first `first` images of a batch as one grid picture.
    func gridCanvas(_ x: Tensor, first: Int, nrow: Int, scale: Int) -> Canvas {
        ImageGrid.make(x.slice(0..<min(first, x.shape[0]), axis: 0), nrow: nrow, padding: 2, scale: scale)
    }

    /// One panel per shown t: x_t (left) beside the network's guess x̂_0 (right), one row per image.
    func predictionFigure(steps: [Int], xt: [Tensor], x0: [Tensor]) -> Figure {
        let fig = Figure(rows: 1, cols: steps.count, panelWidth: 190, panelHeight: 430)
        fig.title = "What the network sees (x_t, left) and what it guesses the clean image is (x0_hat, right)"
        for (j, t) in steps.enumerated() {
            let n = xt[j].shape[0]
            let pairs = Tensor.concat([xt[j].unsqueeze(1), x0[j].unsqueeze(1)], axis: 1)   // [n, 2, 1, 28, 28]
            fig[0, j].title = "t = \(t)"
            fig[0, j].image(ImageGrid.make(pairs.reshape([2 * n, 1, 28, 28]), nrow: 2, padding: 2, scale: 3))
        }
        return fig
    }
}

/// The loss of every step (faint) and a smoothed curve (an EMA over ~50 steps), per epoch on x.
func lossFigure(_ losses: [Float], stepsPerEpoch: Int, recipe: TrainingRecipe) -> Figure {
    let fig = Figure(rows: 1, cols: 1, panelWidth: 720, panelHeight: 420)
    let ax = fig[0, 0]
    ax.title = "Training loss (\(recipe.loss.rawValue) of the noise), recipe \(recipe.name)"
    ax.xLabel = "epoch"
    ax.yLabel = recipe.loss.rawValue
    ax.yScale = .log
    let epochs = losses.indices.map { Double($0 + 1) / Double(stepsPerEpoch) }
    ax.line(epochs, losses, label: "every step", color: .gray(0.75), width: 1)
    // A centred mean over 51 steps: unlike the progress line's running average, it does not lag.
    let centred = losses.indices.map { i -> Float in
        let window = losses[max(0, i - 25)...min(losses.count - 1, i + 25)]
        return window.reduce(0, +) / Float(window.count)
    }
    ax.line(epochs, centred, label: "mean of 51 steps", color: .tab(0), width: 2)
    ax.legend = .upperRight
    return fig
}

/// The losses smoothed by an exponential moving average, s_n = 0.98 s_{n−1} + 0.02 ℓ_n, divided by
/// 1 − 0.98ⁿ so the first values are not pulled towards 0 (Adam's bias correction).
func smoothedLosses(_ losses: [Float]) -> [Float] {
    var s: Double = 0, weight: Double = 1, out: [Float] = []
    for loss in losses {
        s = 0.98 * s + 0.02 * Double(loss)
        weight *= 0.98
        out.append(Float(s / (1 - weight)))
    }
    return out
}

/// A 4×4 grid from the same x_T every time, with the weights used for sampling (a
/// class-conditional model is asked for classes 0, 1, …, 9, 0, 1, … in reading order):
/// <output>/progress/step-NNNNNN.png.
func saveProgressGrid(_ trainer: DiffusionTrainer, step: Int, out: OutputFolder, seed: UInt64) throws {
    var rng = RandomGenerator(seed: seed &+ 1)
    let predictor = trainer.recipe.numClasses.map { classes in
        trainer.conditionalNoisePredictor(labels: (0..<16).map { $0 % classes })
    }
    let sampler = DDPMSampler(trainer.diffusion, variance: trainer.recipe.variance)
    let xT = Tensor.randn([16, 1, 28, 28], using: &rng)                         // [16, 1, 28, 28]
    let grid = trainer.withSamplingWeights { sampler.sample(predictor ?? trainer.noisePredictor, from: xT, using: &rng) }
    let name = String(format: "progress/step-%06d.png", step)
    try FileManager.default.createDirectory(at: out.file("progress"), withIntermediateDirectories: true)
    try ImageGrid.make(grid, nrow: 4, padding: 2, scale: 3).writePNG(to: out.file(name))
    print("wrote \(out.display(name))")
}
