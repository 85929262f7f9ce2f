// Chapter 4 — An MLP learns to denoise, and the reverse process turns noise into clusters.
//
// The 2D tutorial (InFoCusp) in Swift: a small network ε_θ(x_t, t) is trained to predict the
// noise that the forward process added to a point (Algorithm 1 of Ho et al. 2020), and the
// reverse process (Algorithm 2) walks 1000 points of pure noise back to the 8 clusters.
//
// Read this file top to bottom; the training loop is in the Diffusion library (Training/Toy2DTraining.swift), the pictures in
// Plots.swift and the ablation study in Ablations.swift.
//
//     swift run -c release Chapter04-MLPDenoiser                    # the improved recipe
//     swift run -c release Chapter04-MLPDenoiser --recipe tutorial  # the tutorial's, as published
//     swift run -c release Chapter04-MLPDenoiser --ablations        # + what matters, in one figure

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter04: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter04-MLPDenoiser",
        abstract: "Train the 2D tutorial's MLP noise predictor and sample with the reverse process.",
        discussion: "Every hyperparameter left out comes from --recipe (improved by default).")

    @OptionGroup var common: ChapterOptions

    @Option(parsing: .unconditional, help: "Base recipe: improved (default) or tutorial (InFoCusp as published: buffer shuffle, T = 250 unscaled, constant lr).")
    var recipe = "improved"
    @Option(parsing: .unconditional, help: "Diffusion steps T.") var timesteps: Int?
    @Option(parsing: .unconditional, help: "Noise schedule: linear, quadratic, cosine or sigmoid.") var schedule: String?
    @Option(parsing: .unconditional, help: "Rescale the linear betas by 1000/T so that the signal left at t = T is ~0.")
    var rescaleBetas: YesNo?
    @Option(parsing: .unconditional, help: "Passes over the 8000 training points.") var epochs: Int?
    @Option(parsing: .unconditional, help: "Points per training step.") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Adam's (peak) learning rate.") var lr: Float?
    @Option(parsing: .unconditional, help: "Learning-rate schedule: constant or cosine.") var lrSchedule: String?
    @Option(parsing: .unconditional, help: "Shuffling: full (new permutation each epoch) or buffer (tf.data's 1000-element buffer).")
    var shuffle: String?
    @Option(parsing: .unconditional, help: "First width of the MLP (128 in the tutorial; hidden widths w, w/2, w/4, w/8).") var width: Int?
    @Option(name: .customLong("init"), parsing: .unconditional, help: "Weight initialisation: glorot (Keras, the tutorial's) or pytorch.")
    var initialization: String?
    @Option(parsing: .unconditional, help: "Decay of an EMA of the weights used for sampling (0 = off).") var emaDecay: Float?
    @Option(parsing: .unconditional, help: "Reverse-process variance: posterior (beta-tilde) or beta.") var variance: String?
    @Option(parsing: .unconditional, help: "Training loss: mse, l1 or huber.") var loss: String?
    @Option(parsing: .unconditional, help: "Number of points to sample (default 1000, --quick 300).") var samples: Int?
    @Flag(help: "Also train one model per ablation setting and seed, and draw them side by side.") var ablations = false
    @Option(parsing: .unconditional, help: "Seeds of each ablation setting, comma-separated (default 0,1,2; --quick: --seed).")
    var ablationSeeds: String?

    mutating func run() throws {
        var recipe = try makeRecipe()
        // --quick shrinks only what was not given on the command line.
        if common.quick && epochs == nil { recipe.epochs = min(recipe.epochs, 4) }
        let sampleCount = common.value(samples, normal: 1000, quick: 300)
        let gifFrames = common.quick ? 11 : 49
        try checkSizes(recipe, sampleCount: sampleCount)
        let out = try common.start("Chapter04-MLPDenoiser")   // line-buffered stdout; the folder appears at the first write
        let schedule = try recipe.noiseSchedule
        let variance = ReverseVariance(rawValue: recipe.variance)!

        // 1. The data: 8 clusters × 1000 points, sd 0.1, centres on a circle of radius 4 (Chapter 1).
        var rng = RandomGenerator(seed: common.seed)
        let data = ToyDatasets.clusters(using: &rng)                                   // [8000, 2]
        let signalLeft = schedule.sqrtAlphasCumprod.data[recipe.timesteps - 1]
        print("Chapter 4: \(recipe.timesteps) steps, \(recipe.schedule) betas\(recipe.rescaleBetas ? " ×1000/T" : ""); "
              + String(format: "signal left at t = T: sqrt(alpha-bar_T) = %.3f", signalLeft))
        print("training \(recipe.epochs) epochs × \(data.count / recipe.batchSize) steps, batch \(recipe.batchSize), "
              + "Adam lr \(recipe.learningRate) (\(recipe.learningRateSchedule)), \(recipe.shuffle) shuffle, width \(recipe.width)")

        // 2. Training (Algorithm 1): see Training.swift.
        let trained = try trainToyDenoiser(recipe, points: data.points, using: &rng) { epoch, total, mean in
            if epoch == 1 || epoch % max(1, total / 10) == 0 || epoch == total {
                print(String(format: "  epoch %4d/%d  loss %.4f", epoch, total, mean))
            }
        }
        let stepsPerEpoch = trained.steps / max(1, recipe.epochs)
        print(String(format: "trained %d steps in %.1f s (%.3f ms per step)", trained.steps, trained.seconds,
                     1000 * trained.seconds / Double(trained.steps)))

        // 3. How good is the noise prediction? Fresh (x_0, t, ε), compare ε_θ(x_t, t) with ε.
        let (x0, t, eps) = drawProbe(data, timesteps: recipe.timesteps, using: &rng)     // [2000, 2], t, [2000, 2]
        let predicted = trained.withSamplingWeights {
            noGrad { trained.model(trained.diffusion.qSample(x0, t: t, noise: eps), t) }  // [2000, 2]
        }

        // Why is predicting ε enough? The ELBO's KL terms are, exactly, weighted noise errors
        // (Eq. 12), and Algorithm 2's one-line update is the 2D tutorial's four steps (x̂_0, then
        // the posterior of Chapter 3). Theory.swift has the derivation; here both are checked on
        // this model, with their own generator so that the numbers below do not move.
        var theoryRng = RandomGenerator(seed: common.seed &+ 0x7E0)
        checkObjective(trained, data: data, using: &theoryRng)
        checkFourSteps(trained, using: &theoryRng)

        // 4. The reverse process (Algorithm 2) from N(0, I), keeping the whole trajectory.
        let (x, trajectory, sampleSeconds) = sampleToyDenoiser(trained, count: sampleCount, variance: variance,
                                                    keepTrajectory: true, using: &rng)
        print(String(format: "sampled %d points through %d steps in %.3f s", sampleCount, recipe.timesteps, sampleSeconds))

        // 5. Numbers: share per cluster, fraction within 0.5 of a centre, energy distance.
        let metrics = evaluate(x, centres: data.centres, seed: common.seed)
        printMetrics(metrics)

        // 6. Files.
        try out.write(csv(x), to: "samples.csv")
        try out.writeJSON(Summary(recipe: recipe, seed: common.seed, quick: common.quick, steps: trained.steps,
                                  finalLoss: trained.losses.suffix(stepsPerEpoch).reduce(0, +) / Float(max(1, stepsPerEpoch)),
                                  signalLeftAtT: signalLeft, metrics: metrics), to: "metrics.json")
        try lossFigure(trained.losses, stepsPerEpoch: stepsPerEpoch).writePNG(to: out.file("loss.png"))
        try noiseScatterFigure(predicted: predicted, truth: eps, t: t, timesteps: recipe.timesteps)
            .writePNG(to: out.file("noise_prediction.png"))
        try samplesFigure(samples: x, data: data.points, centres: data.centres, metrics: metrics)
            .writePNG(to: out.file("samples.png"))
        let frames = reverseFrames(trajectory, centres: data.centres, frames: gifFrames)
        try GIFWriter.write(frames: frames, delays: Array(repeating: 8, count: frames.count - 1) + [250],
                            to: out.file("reverse.gif"))
        for name in ["loss.png", "noise_prediction.png", "samples.png", "reverse.gif", "samples.csv", "metrics.json"] {
            print("wrote \(out.display(name))")
        }

        // 7. What matters? One model per setting, one panel each (Ablations.swift).
        if ablations {
            let seeds = try ablationSeeds.map { try parseList($0, option: "--ablation-seeds", expects: "whole numbers", example: "0,1,2", maxCount: 20) { UInt64($0) } }
                ?? (common.quick ? [common.seed] : [0, 1, 2])
            try runAblations(base: recipe, sampleCount: sampleCount, seeds: seeds, out: out)
        }
    }

    /// The base recipe with every option that was given applied; one sentence for a bad value.
    func makeRecipe() throws -> Toy2DRecipe {
        var r: Toy2DRecipe
        switch recipe {
        case "improved": r = .improved
        case "tutorial": r = .tutorial
        default: throw ChapterError("unknown --recipe '\(recipe)'; choose improved or tutorial.")
        }
        if let timesteps { r.timesteps = timesteps }
        if let schedule { r.schedule = schedule }
        if let rescaleBetas { r.rescaleBetas = rescaleBetas.isOn }
        if let epochs { r.epochs = epochs }
        if let batchSize { r.batchSize = batchSize }
        if let lr { r.learningRate = lr }
        if let lrSchedule { r.learningRateSchedule = lrSchedule }
        if let shuffle { r.shuffle = shuffle }
        if let width { r.width = width }
        if let initialization { r.initialization = initialization }
        if let emaDecay { r.emaDecay = emaDecay }
        if let variance { r.variance = variance }
        if let loss { r.loss = loss }
        try r.validate()
        return r
    }

    /// Bounds on the work and memory the sizes ask for, checked before anything starts.
    func checkSizes(_ r: Toy2DRecipe, sampleCount: Int) throws {
        try Bounds.check("--samples", sampleCount, in: 1...1_000_000)
        let stepsPerEpoch = max(1, 8000 / r.batchSize)
        let (steps, overflow) = r.epochs.multipliedReportingOverflow(by: stepsPerEpoch)
        guard !overflow, steps <= Chapter04.maxTrainingSteps else {
            throw ChapterError("--epochs \(r.epochs) at \(stepsPerEpoch) steps per epoch is more than the \(Chapter04.maxTrainingSteps) training steps (about an hour) this chapter allows; lower --epochs to at most \(Chapter04.maxTrainingSteps / stepsPerEpoch).")
        }
        // The reverse process keeps every step's points for the GIF: (T + 1) × samples × 2 floats.
        try Bounds.memory(Double(r.timesteps + 1) * Double(sampleCount) * 8 * 2,
                          for: "sampling \(sampleCount) points through \(r.timesteps) steps", "lower --samples or --timesteps")
    }

    /// About an hour of training at 0.15 ms per step.
    static let maxTrainingSteps = 20_000_000
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

/// What metrics.json holds: numbers only, no timings, so the same seed writes the same bytes.
struct Summary: Encodable {
    var recipe: Toy2DRecipe
    var seed: UInt64
    var quick: Bool
    var steps: Int
    var finalLoss: Float
    var signalLeftAtT: Float
    var metrics: Toy2DMetrics
}

/// The metrics of `samples` against fresh data from the same clusters (`Toy2DMetrics.againstClusters`).
func evaluate(_ samples: Tensor, centres: [(x: Float, y: Float)], seed: UInt64) -> Toy2DMetrics {
    precondition(centres.count == ToyDatasets.clusterCentres().count, "evaluate: the course's 8 clusters only")
    return Toy2DMetrics.againstClusters(samples, seed: seed)
}

func printMetrics(_ m: Toy2DMetrics, indent: String = "") {
    print(indent + "share per cluster (%): " + m.shares.map { String(format: "%.1f", 100 * $0) }.joined(separator: " "))
    print(indent + String(format: "within %.1f of a centre: %.1f%%   energy distance %.4f (real-vs-real floor %.4f)",
                          m.radius, 100 * m.withinRadius, m.energyDistance, m.energyDistanceFloor))
}

/// x,y per row.
func csv(_ points: Tensor) -> String {
    var text = "x,y\n"
    for i in 0..<points.shape[0] {
        text += String(format: "%.6f,%.6f\n", points.data[2 * i], points.data[2 * i + 1])
    }
    return text
}
