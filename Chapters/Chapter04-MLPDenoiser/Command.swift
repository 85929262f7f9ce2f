import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

/// The command line of Chapter 4: its options, the checks made before any work, and the files
/// the lesson (Chapter04.swift) writes.
@main
struct Chapter04: ChapterCommand {
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
        try checkSizes(recipe, sampleCount: sampleCount)
        _ = try ablationSeedList()
        let out = try common.start("Chapter04-MLPDenoiser")   // line-buffered stdout; the folder appears at the first write
        try lesson(recipe, sampleCount: sampleCount, out: out)
    }

    /// The base recipe with every option that was given applied; one sentence for a bad value.
    func makeRecipe() throws -> TrainingRecipe {
        guard var r = TrainingRecipe.toyPresets[recipe] else {
            throw ChapterError("unknown --recipe '\(recipe)'; choose improved or tutorial.")
        }
        if let timesteps { r.timesteps = timesteps }
        if let schedule = try choice(schedule, "--schedule", BetaSchedule.self) { r.schedule = schedule }
        if let rescaleBetas { r.rescaleBetas = rescaleBetas.isOn }
        if let epochs { r.epochs = epochs }
        if let batchSize { r.batchSize = batchSize }
        if let lr { r.learningRate = lr }
        if let decay = try choice(lrSchedule, "--lr-schedule", LearningRateDecay.self) { r.learningRateSchedule = decay }
        if let shuffle = try choice(shuffle, "--shuffle", Shuffle.self) { r.shuffle = shuffle }
        if let width { r.width = width }
        if let initialization = try choice(initialization, "--init", MLPInitialization.self) { r.initialization = initialization }
        if let emaDecay { r.emaDecay = emaDecay }
        if let variance = try choice(variance, "--variance", ReverseVariance.self) { r.variance = variance }
        if let loss = try choice(loss, "--loss", RegressionLoss.self) { r.loss = loss }
        r.learningRateFloor = r.learningRate / 100           // a cosine decay ends at 1 % of the peak
        try reported { try r.validate() }
        return r
    }

    /// Bounds on the work and memory the sizes ask for, checked before anything starts.
    func checkSizes(_ r: TrainingRecipe, sampleCount: Int) throws {
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

    /// The seeds of the ablation study.
    func ablationSeedList() throws -> [UInt64] {
        try ablationSeeds.map { try parseList($0, option: "--ablation-seeds", expects: "whole numbers", example: "0,1,2", maxCount: 20) { UInt64($0) } }
            ?? (common.quick ? [common.seed] : [0, 1, 2])
    }

    // MARK: - What the lesson prints and writes

    func printRecipe(_ recipe: TrainingRecipe, points: Int) {
        let schedule = try? recipe.noiseSchedule()
        let signalLeft = schedule?.sqrtAlphasCumprod.data[recipe.timesteps - 1] ?? .nan
        print("Chapter 4: \(recipe.timesteps) steps, \(recipe.schedule.rawValue) betas\(recipe.rescaleBetas ? " ×1000/T" : ""); "
              + String(format: "signal left at t = T: sqrt(alpha-bar_T) = %.3f", signalLeft))
        print("training \(recipe.epochs) epochs × \(points / recipe.batchSize) steps, batch \(recipe.batchSize), "
              + "Adam lr \(recipe.learningRate) (\(recipe.learningRateSchedule.rawValue)), \((recipe.shuffle ?? .full).rawValue) shuffle, width \(recipe.width ?? 128)")
    }

    /// The mean loss of the epoch just finished, at the first, every tenth and the last epoch.
    func printEpoch(_ trainer: DiffusionTrainer) {
        let epoch = trainer.epoch, total = trainer.recipe.epochs
        guard epoch == 1 || epoch % max(1, total / 10) == 0 || epoch == total else { return }
        let mean = trainer.losses.suffix(trainer.stepsPerEpoch).reduce(0, +) / Float(trainer.stepsPerEpoch)
        print(String(format: "  epoch %4d/%d  loss %.4f", epoch, total, mean))
    }

    /// samples.csv, metrics.json and the figures: loss, noise prediction, samples, reverse.gif.
    func writeFiles(_ trainer: DiffusionTrainer, samples x: Tensor, trajectory: [Tensor],
                    probe: (predicted: Tensor, eps: Tensor, t: [Int]), metrics: Toy2DMetrics, data: ToyDataset,
                    out: OutputFolder) throws {
        let recipe = trainer.recipe, stepsPerEpoch = trainer.stepsPerEpoch
        try out.writePointsCSV(x, to: "samples.csv")
        try out.writeJSON(Summary(recipe: recipe, seed: common.seed, quick: common.quick, steps: trainer.step,
                                  finalLoss: trainer.losses.suffix(stepsPerEpoch).reduce(0, +) / Float(max(1, stepsPerEpoch)),
                                  signalLeftAtT: trainer.diffusion.schedule.sqrtAlphasCumprod.data[recipe.timesteps - 1],
                                  metrics: metrics), to: "metrics.json")
        try lossFigure(trainer.losses, stepsPerEpoch: stepsPerEpoch).writePNG(to: out.file("loss.png"))
        try noiseScatterFigure(predicted: probe.predicted, truth: probe.eps, t: probe.t, timesteps: recipe.timesteps)
            .writePNG(to: out.file("noise_prediction.png"))
        try samplesFigure(samples: x, data: data.points, centres: data.centres, metrics: metrics)
            .writePNG(to: out.file("samples.png"))
        let frames = reverseFrames(trajectory, centres: data.centres, frames: common.quick ? 11 : 49)
        try GIFWriter.write(frames: frames, delays: Array(repeating: 8, count: frames.count - 1) + [250],
                            to: out.file("reverse.gif"))
        for name in ["loss.png", "noise_prediction.png", "samples.png", "reverse.gif", "samples.csv", "metrics.json"] {
            print("wrote \(out.display(name))")
        }
    }
}

/// What metrics.json holds: numbers only, no timings, so the same seed writes the same bytes.
struct Summary: Encodable {
    var recipe: TrainingRecipe
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
    print(indent + String(format: "within %.1f of a centre: %.1f%%   energy distance %.4f (real data %.4f)",
                          m.radius, 100 * m.withinRadius, m.energyDistance, m.energyDistanceFloor))
}
