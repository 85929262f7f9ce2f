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
// three U-Nets of Chapter 5.
//
// Run:   swift run -c release Chapter06-FashionMNIST --sample-only     (the committed model, ~2 min)
//        swift run -c release Chapter06-FashionMNIST                   (train: 1 h 21 min on 2 AVX-512 cores)
//        swift run -c release Chapter06-FashionMNIST --resume          (continue after Ctrl-C)

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter06: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter06-FashionMNIST",
        abstract: "Train the Annotated U-Net on Fashion-MNIST, watch clothes appear, sample, evaluate, resume.")

    @OptionGroup var common: ChapterOptions
    @OptionGroup var options: RecipeOptions

    @Option(help: "Training images to use, the first N of the 60,000 (--quick uses 256).")
    var limit: Int?
    @Option(help: "Save a grid of samples every N steps while training (the post's save_and_sample_every; 0 = never).")
    var sampleEvery: Int?
    @Option(help: "Save a resumable checkpoint every N steps (and on Ctrl-C).")
    var checkpointEvery = 200
    @Flag(help: "Continue the run saved in <output>/checkpoint.safetensors.")
    var resume = false
    @Option(help: "Stop (and save a checkpoint) after N steps of this process, as if interrupted.")
    var stopAfter: Int?
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

    func run() throws {
        let clock = Stopwatch()
        let recipe = try options.recipe(quick: common.quick)
        let sampleCount = samples ?? (common.quick ? 8 : 64)
        guard (1...10_000).contains(sampleCount) else { throw ChapterError("--samples must be between 1 and 10000, got \(sampleCount).") }
        guard checkpointEvery >= 1 else { throw ChapterError("--checkpoint-every must be at least 1, got \(checkpointEvery).") }
        let out = try common.start("Chapter06-FashionMNIST")
        if let evaluate {
            let metrics = try self.evaluate(samples: try loadSamples(evaluate), source: evaluate,
                                            mirroredTraining: recipe.horizontalFlip, quick: common.quick)
            try out.writeJSON(metrics, to: "evaluation.json")
            print("wrote \(out.display("evaluation.json"))")
            return
        }
        if !sampleOnly && evaluate == nil { Interruption.stopPolitely() }   // Ctrl-C while training: save, then stop

        let model: any DenoisingUNet
        let diffusion: GaussianDiffusion
        var trainedRecipe = recipe, weightsStep = "?"
        if sampleOnly {
            (model, diffusion, trainedRecipe, weightsStep) = try loadForSampling(out: out, recipe: recipe)
        } else {
            // MARK: 1. The data
            //
            // 60,000 training images, pixels 0…255 scaled to [−1, 1] (x/127.5 − 1: the model's
            // range, like the post's ToTensor() then t·2 − 1). The post flips them left-right
            // with p = ½ (`--flip yes`); the default does not, since every real shoe points left.
            let data = try loadData(split: .train, limit: limit ?? (common.quick ? 256 : nil))
            print("Fashion-MNIST: \(data.count) training images of \(data.rows)×\(data.cols)")

            // MARK: 2. Training (Algorithm 1)
            let trainer = try train(recipe: recipe, data: data, out: out)
            (model, diffusion, weightsStep) = (trainer.model, trainer.diffusion, "\(trainer.step)")
            // Sample with the weights the run keeps for sampling (the EMA's, if any).
            if let ema = trainer.ema { ema.copyToParameters() }
        }

        // MARK: 3. Sampling (Algorithm 2) and its figures
        var rng = RandomGenerator(seed: common.seed &+ 2)
        let variance = ReverseVariance(rawValue: trainedRecipe.variance)!
        let result = try sampleWithFigures(model: model, diffusion: diffusion, count: sampleCount,
                                           variance: variance, rng: &rng, out: out)

        // MARK: 4. Evaluation: which clothes, and how real
        let metrics = try evaluate(samples: result, source: "recipe \(trainedRecipe.name), step \(weightsStep)",
                                   mirroredTraining: trainedRecipe.horizontalFlip, quick: common.quick)
        try out.writeJSON(metrics, to: "metrics.json")
        print("wrote \(out.display("metrics.json"))")
        print(String(format: "\nChapter06-FashionMNIST finished in %@", ProgressLine.duration(clock.seconds)))
    }

    func loadData(split: FashionMNIST.Split, limit: Int?) throws -> FashionMNIST {
        do { return try FashionMNIST(split: split, limit: limit) } catch { throw ChapterError("\(error)") }
    }

    // MARK: - The training loop

    /// Algorithm 1 for the whole run, with progress, sample grids, checkpoints and Ctrl-C.
    func train(recipe: TrainingRecipe, data: FashionMNIST, out: OutputFolder) throws -> DiffusionTrainer {
        let checkpointFile = out.file("checkpoint.safetensors")
        let trainer: DiffusionTrainer
        do {
            if resume {
                guard FileManager.default.fileExists(atPath: checkpointFile.path) else {
                    throw ChapterError("--resume found no \(out.display("checkpoint.safetensors")); start without --resume (or pass the --output of the run to continue).")
                }
                trainer = try TrainingCheckpoint.resume(from: checkpointFile, recipe: recipe, dataset: data)
                print("resumed \(out.display("checkpoint.safetensors")) at step \(trainer.step) of \(trainer.totalSteps)")
            } else {
                trainer = try DiffusionTrainer(recipe: recipe, dataset: data, seed: common.seed)
            }
        } catch let error as ChapterError { throw error } catch { throw ChapterError("\(error)") }
        printRecipe(trainer)

        let every = sampleEvery ?? (common.quick ? 0 : 500)
        let progress = ProgressLine(total: trainer.totalSteps, label: "step", startingAt: trainer.step)
        var stepsHere = 0
        while !trainer.finished {
            let loss = try trainer.trainStep()
            stepsHere += 1
            // The loss averaged over the last ~50 steps (one batch's loss is noisy).
            let smoothed = smoothedLosses(Array(trainer.losses.suffix(300))).last ?? loss
            progress.update(trainer.step, String(format: "epoch %d/%d  loss %.4f  lr %.1e", trainer.epoch + (trainer.batchInEpoch == 0 ? 0 : 1),
                                                 recipe.epochs, smoothed, trainer.learningRate))
            // Clothes appearing: a grid from the same x_T every `every` steps.
            if every > 0 && trainer.step % every == 0 && !trainer.finished {
                progress.finish()
                try saveProgressGrid(trainer, out: out)
            }
            let interrupted = Interruption.requested != nil || stepsHere == stopAfter
            if interrupted || trainer.step % checkpointEvery == 0 || trainer.finished {
                try TrainingCheckpoint.save(trainer, to: checkpointFile)
            }
            if interrupted {
                progress.finish()
                print("saved \(out.display("checkpoint.safetensors")) at step \(trainer.step); continue with --resume")
                if let signal = Interruption.requested { throw ExitCode(128 + signal) }
                throw ExitCode.success
            }
        }
        progress.finish()
        Interruption.stopAtOnce()       // from here on, Ctrl-C ends the run at once
        let last = trainer.losses.suffix(trainer.stepsPerEpoch)
        print(String(format: "trained %d steps; mean loss of the last epoch %.4f", trainer.step, last.reduce(0, +) / Float(max(1, last.count))))
        try TrainingCheckpoint.saveSamplingWeights(trainer, to: out.file("unet.safetensors"))
        try lossFigure(trainer.losses, stepsPerEpoch: trainer.stepsPerEpoch, recipe: recipe).writePNG(to: out.file("loss.png"))
        print("wrote \(out.display("unet.safetensors")) (\(trainer.ema == nil ? "trained" : "EMA") weights, PyTorch names), \(out.display("loss.png"))")
        return trainer
    }

    func printRecipe(_ trainer: DiffusionTrainer) {
        let r = trainer.recipe
        let signal = trainer.diffusion.schedule.sqrtAlphasCumprod.data.last!
        print("""
            recipe \(r.name): \(modelDescription(r)) \(trainer.model.parameterCount) parameters
              T = \(r.timesteps) \(r.schedule)\(r.rescaleBetas ? " (rescaled ×1000/T)" : "") betas: signal left at t = T, √ᾱ_T = \(String(format: "%.3f", signal))
              \(r.loss) loss\(r.oneTimestepPerBatch == true ? " (one t per batch)" : ""), Adam lr \(r.learningRate) \(r.learningRateSchedule)\(r.learningRateSchedule == "cosine" ? " → \(r.learningRateFloor)" : "")\(r.warmupSteps > 0 ? ", \(r.warmupSteps) warm-up steps" : ""), \(r.emaDecay > 0 ? "EMA \(r.emaDecay)" : "no EMA")
              batch \(r.batchSize), \(r.epochs) epochs of \(trainer.stepsPerEpoch) steps = \(trainer.totalSteps) steps, \(r.horizontalFlip ? "random flips" : "no flips")
            """)
        if let classes = r.numClasses {
            print("  class-conditional: \(classes) classes + the null class, label dropout \(r.labelDropout ?? 0)"
                  + " (samples at the end are unconditional; Chapter 8 guides them)")
        }
    }

    /// "Unet(dim 28, dimMults [1, 2, 4], resnet)", "TwoResUNet(dim 28, dimMults [1, 2, 4])", ...
    func modelDescription(_ r: TrainingRecipe) -> String {
        switch r.architecture {
        case .annotated: return "Unet(dim \(r.dim), dimMults \(r.dimMults), \(r.block))"
        case .mindspore: return "MindSporeUnet(dim \(r.dim), dimMults \(r.dimMults))"
        case .tworesunet: return "TwoResUNet(dim \(r.dim), dimMults \(r.dimMults))"
        }
    }

    /// A 4×4 grid from the same x_T every time, with the weights used for sampling (a
    /// class-conditional model is asked for classes 0, 1, …, 9, 0, 1, … in reading order).
    func saveProgressGrid(_ trainer: DiffusionTrainer, out: OutputFolder) throws {
        var rng = RandomGenerator(seed: common.seed &+ 1)
        let predictor = trainer.recipe.numClasses.map { classes in
            trainer.conditionalNoisePredictor(labels: (0..<16).map { $0 % classes })
        }
        let grid = trainer.withSamplingWeights {
            trainer.diffusion.pSampleLoop(predictor ?? trainer.noisePredictor, shape: [16, 1, 28, 28],
                                          variance: ReverseVariance(rawValue: trainer.recipe.variance)!, using: &rng).samples
        }
        let name = String(format: "progress/step-%06d.png", trainer.step)
        try FileManager.default.createDirectory(at: out.file("progress"), withIntermediateDirectories: true)
        try ImageGrid.make(grid, nrow: 4, padding: 2, scale: 3).writePNG(to: out.file(name))
        print("wrote \(out.display(name))")
    }

    // MARK: - Sampling without training

    /// The model, its diffusion and its recipe from a weights file (ours or PyTorch's).
    func loadForSampling(out: OutputFolder, recipe: TrainingRecipe) throws -> (any DenoisingUNet, GaussianDiffusion, TrainingRecipe, String) {
        let url = checkpoint.map { URL(fileURLWithPath: $0) } ?? out.file("unet.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ChapterError("no weights at \(url.path); train first (without --sample-only) or pass --checkpoint FILE.")
        }
        do {
            let loaded = try LoadedDenoiser(contentsOf: url, fallback: recipe)
            print("loaded \(url.lastPathComponent) (recipe \(loaded.recipe.name), step \(loaded.step))")
            return (loaded.model, loaded.diffusion, loaded.recipe, loaded.step)
        } catch let error as ChapterError { throw error } catch {
            throw ChapterError("cannot sample from \(url.lastPathComponent): \(error)")
        }
    }
}
