import Foundation
import TinyTensor

/// A trained noise predictor ready to sample: the U-Net, its diffusion and the recipe it was
/// trained with, read from a weights file (Chapter 6's `unet.safetensors`, a training
/// checkpoint, or a PyTorch state_dict saved as safetensors with the same names).
public struct LoadedDenoiser {
    public let model: any DenoisingUNet
    public let diffusion: GaussianDiffusion
    public let recipe: TrainingRecipe
    /// The training step the weights come from ("?" for a file without one).
    public let step: String

    /// ε_θ(x_t, t) as the samplers take it.
    public var predictor: NoisePredictor { model.noisePredictor }

    /// ε_θ(x_t, t, y) of a class-conditional model (`recipe.numClasses` is the null class).
    public var conditionalPredictor: ConditionalNoisePredictor? { model.conditionalNoisePredictor }

    /// Reads `url`. Our files carry their recipe; a PyTorch state_dict is taken with `fallback`.
    /// A training checkpoint holds model.* and ema.*: the EMA is used when the recipe has one.
    public init(contentsOf url: URL, fallback: TrainingRecipe) throws {
        let file = try SafeTensors.read(url)
        // Our files carry their recipe; one that does not read is refused, never replaced.
        let stored = TrainingCheckpoint.recipe(in: file.metadata)
        if file.metadata["recipe"] != nil && stored == nil {
            throw DiffusionError("\(url.lastPathComponent) has a recipe in its metadata that does not read (damaged, or written by another program); it cannot be sampled safely.")
        }
        let saved = stored ?? fallback
        try saved.validate()
        var rng = RandomGenerator(seed: 0)
        let model = saved.makeUNet(rng: &rng)
        let training = TrainingCheckpoint.isTrainingCheckpoint(file.metadata)
        let prefix = !training ? "" : saved.emaDecay > 0 ? "ema." : "model."
        let tensors = file.tensors.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) }
        try model.loadStateDict(tensors, strict: true, source: url.lastPathComponent)
        try TrainingCheckpoint.refuseNonFinite(model.namedParameters().map { ($0.name, $0.tensor) },
                                               what: "\(url.lastPathComponent)",
                                               remedy: "these weights cannot sample anything; train them again.")
        self.model = model
        self.diffusion = GaussianDiffusion(schedule: try saved.noiseSchedule())
        self.recipe = saved
        self.step = file.metadata["step"] ?? "?"
    }
}
