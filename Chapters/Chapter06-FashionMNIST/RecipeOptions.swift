import ArgumentParser
import ChapterSupport
import Diffusion
import TinyTensor

/// `--recipe` and one option per hyperparameter; an option given on the command line always
/// beats both the recipe and `--quick`.
struct RecipeOptions: ParsableArguments {
    @Option(help: "Starting recipe: default (measured fixes), lesson (default, narrower and shorter: about 30 minutes on 2 cores), tutorial (the post as published), mindspore (its MindSpore port), tworesunet (the TwoResUNet article) or conditional (default with class labels, for Chapter 8).")
    var recipe = "default"
    @Option(help: "U-Net: annotated (the post's), mindspore (its MindSpore port's) or tworesunet (the TwoResUNet article's).")
    var model: String?

    @Option(help: "Passes over the training images.") var epochs: Int?
    @Option(help: "Images per step.") var batchSize: Int?
    @Option(help: "Adam's (peak) learning rate.") var lr: Float?
    @Option(help: "constant, or cosine decay to --lr-floor.") var lrSchedule: String?
    @Option(help: "Learning rate at the end of a cosine decay.") var lrFloor: Float?
    @Option(help: "Linear learning-rate warm-up steps.") var warmup: Int?
    @Option(help: "Decay of the EMA of the weights used for sampling (0 = none).") var emaDecay: Float?
    @Option(help: "mse, l1 or huber.") var loss: String?
    @Option(help: "One step t for the whole batch, as the TwoResUNet article draws it.") var oneTimestepPerBatch: YesNo?
    @Option(help: "Diffusion steps T.") var timesteps: Int?
    @Option(help: "Beta schedule: linear, quadratic, cosine or sigmoid.") var schedule: String?
    @Option(help: "Multiply linear betas by 1000/T.") var rescaleBetas: YesNo?
    @Option(help: "Block of the annotated U-Net: resnet or convnext (the other two are ConvNeXt anyway).") var block: String?
    @Option(help: "U-Net base width (28 in the post).") var dim: Int?
    @Option(help: "Random horizontal flips of the training images.") var flip: YesNo?
    @Option(help: "Reverse-step variance: posterior or beta.") var variance: String?
    @Option(help: "Probability of replacing a label by the null class (class-conditional recipes only).") var labelDropout: Double?

    /// The recipe with every given option applied, checked. `--quick` shrinks what was not given.
    func recipe(quick: Bool) throws -> TrainingRecipe {
        var r: TrainingRecipe
        guard let preset = TrainingRecipe.presets[recipe] else {
            throw ChapterError("unknown --recipe '\(recipe)'; choose default, lesson, tutorial, mindspore, tworesunet or conditional.")
        }
        r = preset
        if quick {
            // A few steps of a small run, for the tests and a first look (nothing to see in it).
            r.epochs = 1; r.batchSize = 16; r.timesteps = 50; r.warmupSteps = min(r.warmupSteps, 4)
        }
        if let epochs { r.epochs = epochs }
        if let batchSize { r.batchSize = batchSize }
        if let lr { r.learningRate = lr }
        if let decay = try choice(lrSchedule, "--lr-schedule", LearningRateDecay.self) { r.learningRateSchedule = decay }
        if let lrFloor { r.learningRateFloor = lrFloor }
        if let warmup { r.warmupSteps = warmup }
        if let emaDecay { r.emaDecay = emaDecay }
        if let loss = try choice(loss, "--loss", RegressionLoss.self) { r.loss = loss }
        if let oneTimestepPerBatch { r.oneTimestepPerBatch = oneTimestepPerBatch.isOn ? true : nil }
        if let timesteps { r.timesteps = timesteps }
        if let schedule = try choice(schedule, "--schedule", BetaSchedule.self) { r.schedule = schedule }
        if let rescaleBetas { r.rescaleBetas = rescaleBetas.isOn }
        if let model {
            let architecture = try choice(model, "--model", DenoiserKind.self, among: [.annotated, .mindspore, .tworesunet])!
            // nil, not "annotated": the Annotated recipes' JSON stays as it always was.
            r.model = architecture == .annotated ? nil : architecture
            // The other two are ConvNeXt U-Nets; the Annotated one goes back to the post's block.
            r.block = architecture == .annotated ? .resnet : .convnext
        }
        if let block = try choice(block, "--block", UNetBlock.self) { r.block = block }
        if let dim { r.dim = dim }
        if let flip { r.horizontalFlip = flip.isOn }
        if let variance = try choice(variance, "--variance", ReverseVariance.self) { r.variance = variance }
        if let labelDropout { r.labelDropout = labelDropout }
        // The learning-rate floor must stay below a lowered peak.
        if lrFloor == nil { r.learningRateFloor = min(r.learningRateFloor, r.learningRate) }
        try reported { try r.validate() }
        return r
    }
}
