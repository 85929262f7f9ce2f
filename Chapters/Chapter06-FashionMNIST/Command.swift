import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

/// The command line of Chapter 6: its options, the checks made before any work, and the files
/// the lesson (Chapter06.swift) reads and writes.
@main
struct Chapter06: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter06-FashionMNIST",
        abstract: "Train the Annotated U-Net on Fashion-MNIST, watch clothes appear, sample, evaluate, resume.")

    @OptionGroup var common: ChapterOptions
    @OptionGroup var options: RecipeOptions
    @OptionGroup var training: TrainingOptions

    @Option(help: "Training images to use, the first N of the 60,000 (--quick uses 256).")
    var limit: Int?
    @Flag(help: "Do not train: sample from --checkpoint (default: <output>/unet.safetensors).")
    var sampleOnly = false
    @Option(help: "Weights to sample from with --sample-only: ours, or a PyTorch state_dict saved as safetensors.")
    var checkpoint: String?
    @Option(help: "Images to sample and evaluate at the end (--quick uses 8).")
    var samples: Int?
    @Flag(help: "Train the evaluation classifier again (output/Chapter06-FashionMNIST/classifier.safetensors).")
    var trainClassifier = false
    @Option(help: "Only evaluate the samples in this safetensors file ([N, 1, 28, 28] in [-1, 1], e.g. PyTorch's).")
    var evaluate: String?
    @Flag(help: "Train into an output folder that already holds trained weights, replacing them.")
    var overwrite = false

    func run() throws {
        let clock = Stopwatch()
        let recipe = try options.recipe(quick: common.quick)
        let sampleCount = samples ?? (common.quick ? 8 : 64)
        try Bounds.check("--samples", sampleCount, in: 2...10_000, "the classifier-FID needs at least 2")
        try training.check()
        if !sampleOnly && evaluate == nil { try checkTrainingMemory(recipe) }
        let out = try common.start("Chapter06-FashionMNIST")
        // The committed models (and anyone's finished run) are not trained over by accident.
        if !sampleOnly && evaluate == nil && !training.resume && !overwrite
            && FileManager.default.fileExists(atPath: out.path("unet.safetensors").path) {
            throw ChapterError("\(out.display("unet.safetensors")) already holds trained weights; train into another folder "
                               + "(--output output/my-run), continue that run with --resume, or replace them with --overwrite.")
        }
        if let evaluate {
            let metrics = try self.evaluate(samples: try loadSamples(evaluate), source: evaluate,
                                            mirroredTraining: recipe.horizontalFlip, quick: common.quick)
            return try save(metrics, as: "evaluation.json", out: out)
        }
        try lesson(recipe, sampleCount: sampleCount, out: out)
        print(String(format: "\nChapter06-FashionMNIST finished in %@", ProgressLine.duration(clock.seconds)))
    }

    /// The memory of one training step, estimated before any allocation: the activations kept
    /// for the backward pass grow with batch × width × pixels. Measured on the Annotated U-Net at
    /// batch 256, dim 56, dimMults [1, 2, 4]: 7.4 GB, about 660 bytes per image, channel of the
    /// first level and pixel; wider levels add in proportion to their multiplier.
    func checkTrainingMemory(_ r: TrainingRecipe) throws {
        let perUnit = 660.0 * Double(r.dimMults.reduce(0, +)) / 7
        try Bounds.memory(perUnit * Double(r.batchSize) * Double(r.dim) * 28 * 28,
                          for: "a training step of \(r.batchSize) images at --dim \(r.dim)", "lower --batch-size or --dim")
    }

    // MARK: - Files of the lesson

    /// A new run, or with --resume the run saved in <output>/checkpoint.safetensors; prints its recipe.
    func startTraining(_ recipe: TrainingRecipe, data: FashionMNIST, out: OutputFolder) throws -> DiffusionTrainer {
        let trainer = try reported {
            if try TrainingSession.wantsResume(training, out: out) {
                let resumed = try TrainingCheckpoint.resume(from: out.path(TrainingSession.checkpointName), recipe: recipe,
                                                            dataset: data)
                print("resumed \(out.display(TrainingSession.checkpointName)) at step \(resumed.step) of \(resumed.totalSteps)")
                return resumed
            }
            return try DiffusionTrainer(recipe: recipe, dataset: data, seed: common.seed)
        }
        printRecipe(trainer)
        try out.prepare()          // a real write (run.json) now, not after hours of training
        return trainer
    }

    /// The progress line's fields: epoch, the loss averaged over the last ~50 steps, the learning rate.
    func progressFields(_ trainer: DiffusionTrainer, loss: Float) -> String {
        let smoothed = smoothedLosses(Array(trainer.losses.suffix(300))).last ?? loss
        return String(format: "epoch %d/%d  loss %.4f  lr %.1e", trainer.epoch + (trainer.batchInEpoch == 0 ? 0 : 1),
                      trainer.recipe.epochs, smoothed, trainer.learningRate)
    }

    /// The weights used for sampling (unet.safetensors, PyTorch's names) and the loss curve.
    func saveTrainedModel(_ trainer: DiffusionTrainer, out: OutputFolder) throws {
        let last = trainer.losses.suffix(trainer.stepsPerEpoch)
        print(String(format: "trained %d steps; mean loss of the last epoch %.4f", trainer.step,
                     last.reduce(0, +) / Float(max(1, last.count))))
        try TrainingCheckpoint.saveSamplingWeights(trainer, to: out.file("unet.safetensors"))
        try lossFigure(trainer.losses, stepsPerEpoch: trainer.stepsPerEpoch, recipe: trainer.recipe)
            .writePNG(to: out.file("loss.png"))
        print("wrote \(out.display("unet.safetensors")) (\(trainer.ema == nil ? "trained" : "EMA") weights, PyTorch names), \(out.display("loss.png"))")
    }

    func printRecipe(_ trainer: DiffusionTrainer) {
        let r = trainer.recipe
        let signal = trainer.diffusion.schedule.sqrtAlphasCumprod.data.last!
        print("""
            recipe \(r.name): \(modelDescription(r)) \(trainer.model.parameterCount) parameters
              T = \(r.timesteps) \(r.schedule.rawValue)\(r.rescaleBetas ? " (rescaled ×1000/T)" : "") betas: signal left at t = T, √ᾱ_T = \(String(format: "%.3f", signal))
              \(r.loss.rawValue) loss\(r.oneTimestepPerBatch == true ? " (one t per batch)" : ""), Adam lr \(r.learningRate) \(r.learningRateSchedule.rawValue)\(r.learningRateSchedule == .cosine ? " → \(r.learningRateFloor)" : "")\(r.warmupSteps > 0 ? ", \(r.warmupSteps) warm-up steps" : ""), \(r.emaDecay > 0 ? "EMA \(r.emaDecay)" : "no EMA")
              batch \(r.batchSize), \(r.epochs) epochs of \(trainer.stepsPerEpoch) steps = \(trainer.totalSteps) steps, \(r.horizontalFlip ? "random flips" : "no flips")
            """)
        if let classes = r.numClasses {
            print("  class-conditional: \(classes) classes + the null class, label dropout \(r.labelDropout ?? 0)"
                  + " (samples at the end are unconditional; Chapter 8 guides them)")
        }
    }

    /// "Unet(dim 28, dimMults [1, 2, 4], resnet)", "TwoResUNet(dim 28, dimMults [1, 2, 4])", ...
    func modelDescription(_ r: TrainingRecipe) -> String {
        switch r.unetArchitecture {
        case .annotated: return "Unet(dim \(r.dim), dimMults \(r.dimMults), \(r.block.rawValue))"
        case .mindspore: return "MindSporeUnet(dim \(r.dim), dimMults \(r.dimMults))"
        case .tworesunet: return "TwoResUNet(dim \(r.dim), dimMults \(r.dimMults))"
        }
    }

    /// The model, its diffusion and its recipe from a weights file (ours or PyTorch's).
    func loadWeights(out: OutputFolder, fallback recipe: TrainingRecipe) throws -> LoadedDenoiser {
        let url = checkpoint.map { URL(fileURLWithPath: $0) } ?? out.path("unet.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ChapterError("no weights at \(url.path); train first (without --sample-only) or pass --checkpoint FILE.")
        }
        do {
            let loaded = try LoadedDenoiser(contentsOf: url, fallback: recipe)
            print("loaded \(url.lastPathComponent) (recipe \(loaded.recipe.name), step \(loaded.step))")
            try out.prepare()      // a real write (run.json) before sampling
            return loaded
        } catch {
            throw ChapterError("cannot sample from \(url.lastPathComponent): \(ChapterError(error))")
        }
    }

    func save<T: Encodable>(_ value: T, as name: String, out: OutputFolder) throws {
        try out.writeJSON(value, to: name)
        print("wrote \(out.display(name))")
    }
}
