import Foundation
import TinyTensor

/// Saving and resuming a `DiffusionTrainer`: one safetensors file holding everything the next
/// step depends on, so a resumed run continues with exactly the bits an uninterrupted run has.
///
///     model.<name>      the trained weights, under the U-Net's PyTorch names
///     ema.<name>        the EMA of the weights (if the recipe keeps one)
///     adam.m.<name>     Adam's first and second moments
///     adam.v.<name>
///     train.losses      [steps] the loss of every step so far (for the loss curve)
///
/// and, in the metadata: the recipe (JSON), the seed, the step, the generator's position and the
/// position at which this epoch's shuffle was drawn, Adam's step count, the EMA's update count
/// and the dataset size. Written atomically (temporary file + rename), so an interrupted save
/// leaves the previous checkpoint intact.
public enum TrainingCheckpoint {
    static let format = "diffusion-from-scratch/training-checkpoint/1"

    /// Writes the trainer's state to `url`.
    public static func save(_ trainer: DiffusionTrainer, to url: URL) throws {
        let names = trainer.model.namedParameters().map(\.name)
        var tensors: [(name: String, tensor: Tensor)] = []
        for (name, p) in trainer.model.namedParameters() { tensors.append(("model.\(name)", p)) }
        if let ema = trainer.ema {
            for (name, (avg, p)) in zip(names, zip(ema.shadow, ema.parameters)) { tensors.append(("ema.\(name)", Tensor(avg, shape: p.shape))) }
        }
        let state = trainer.optimizer.state
        for (i, (name, p)) in trainer.model.namedParameters().enumerated() {
            tensors.append(("adam.m.\(name)", Tensor(state.m[i], shape: p.shape)))
            tensors.append(("adam.v.\(name)", Tensor(state.v[i], shape: p.shape)))
        }
        tensors.append(("train.losses", Tensor(trainer.losses, shape: [trainer.losses.count])))
        try refuseNonFinite(tensors, what: "the training state at step \(trainer.step)")
        let metadata = [
            "format": format,
            "recipe": trainer.recipe.json,
            "seed": "\(trainer.seed)",
            "step": "\(trainer.step)",
            "rng_counter": "\(trainer.rng.counter)",
            "epoch_start_counter": "\(trainer.epochStartCounter)",
            "adam_step": "\(state.stepCount)",
            "ema_updates": "\(trainer.ema?.updates ?? 0)",
            "dataset_count": "\(trainer.dataset.count)",
        ]
        try SafeTensors.write(tensors, metadata: metadata, to: url)
    }

    /// Throws, naming the count and the first tensor, when any value is NaN or infinite: a run
    /// that diverged must not overwrite the last good checkpoint (or leave weights nobody can use).
    static func refuseNonFinite(_ tensors: [(name: String, tensor: Tensor)], what: String,
                                remedy: DiffusionError.Message? = nil) throws {
        var bad = 0, first: String?
        for (name, t) in tensors {
            let n = t.data.reduce(0) { $1.isFinite ? $0 : $0 + 1 }
            if n > 0 { bad += n; first = first ?? name }
        }
        guard bad == 0 else {
            throw DiffusionError("\(what) holds \(bad) values that are not finite (the first in \(first!)); "
                + (remedy ?? "the training diverged, and nothing was written over the last checkpoint; lower \(option: "learningRate", "the learning rate") and start again, or \(option: "resume", "resume") from that checkpoint."))
        }
    }

    /// Whether `url` holds a training checkpoint (rather than a plain state dict).
    public static func isTrainingCheckpoint(_ metadata: [String: String]) -> Bool { metadata["format"] == format }

    /// The recipe stored in a checkpoint's (or a weights file's) metadata, if any.
    public static func recipe(in metadata: [String: String]) -> TrainingRecipe? {
        metadata["recipe"].flatMap { try? JSONDecoder().decode(TrainingRecipe.self, from: Data($0.utf8)) }
    }

    /// A trainer in exactly the state saved at `url`.
    ///
    /// - Parameters:
    ///   - recipe: the recipe this run asks for; a checkpoint of another recipe is refused,
    ///     naming the fields that differ.
    ///   - dataset: must have the size the run was started with.
    public static func resume(from url: URL, recipe: TrainingRecipe, dataset: any TrainingData) throws -> DiffusionTrainer {
        let file = try SafeTensors.read(url)
        let meta = file.metadata
        let source = url.lastPathComponent
        guard isTrainingCheckpoint(meta) else {
            throw DiffusionError("\(source) is not a training checkpoint (no optimizer state); it holds weights to sample from (use it with \(option: "sampleOnly", "a sampler")), not a run to resume.")
        }
        guard let saved = self.recipe(in: meta) else {
            throw DiffusionError("\(source) has no readable recipe; it is damaged: start a new run (without \(option: "resume", "resuming")).")
        }
        try saved.validate()                          // its numbers within the bounds of the options that set them
        let differences = recipe.differences(from: saved)
        guard differences.isEmpty else {
            throw DiffusionError("\(source) was trained with another recipe (\(differences.joined(separator: "; ")), this run vs the checkpoint); pass the same options as that run, or another \(option: "output", "output folder").")
        }
        func number<T: FixedWidthInteger>(_ key: String, _: T.Type) throws -> T {
            guard let text = meta[key], let value = T(text) else {
                throw DiffusionError("\(source) lacks '\(key)' in its metadata; it is damaged: start a new run (without \(option: "resume", "resuming")).")
            }
            return value
        }
        let seed = try number("seed", UInt64.self)
        let count = try number("dataset_count", Int.self)
        guard count == dataset.count else {
            throw DiffusionError("\(source) was trained on \(count) images, this run has \(dataset.count); train on the same \(option: "limit", "number of images") as that run.")
        }
        let trainer = try DiffusionTrainer(recipe: saved, dataset: dataset, seed: seed)
        let step = try number("step", Int.self)
        guard (0...trainer.totalSteps).contains(step) else {
            throw DiffusionError("\(source) is at step \(step) of a run of \(trainer.totalSteps); it is damaged: start a new run (without \(option: "resume", "resuming")).")
        }

        var byName: [String: Tensor] = [:]
        for (name, t) in file.tensors { byName[name] = t }
        func tensors(_ prefix: String) -> [(name: String, tensor: Tensor)] {
            file.tensors.filter { $0.name.hasPrefix(prefix) }.map { (String($0.name.dropFirst(prefix.count)), $0.tensor) }
        }
        try trainer.model.loadStateDict(tensors("model."), strict: true, source: source)
        let params = trainer.model.namedParameters()
        func buffers(_ prefix: String) throws -> [[Float]] {
            try params.map { name, p in
                guard let t = byName[prefix + name], t.shape == p.shape else {
                    throw DiffusionError("\(source) lacks '\(prefix + name)' of shape \(p.shape); it is damaged: start a new run (without \(option: "resume", "resuming")).")
                }
                return t.data
            }
        }
        // Every number read from the file within the bounds the run itself could have reached.
        func counted(_ key: String) throws -> Int {
            let value = try number(key, Int.self)
            guard (0...step).contains(value) else {
                throw DiffusionError("\(source) says '\(key)' is \(value) at step \(step) (it must be between 0 and the step); it is damaged: start a new run (without \(option: "resume", "resuming")).")
            }
            return value
        }
        let (m, v) = (try buffers("adam.m."), try buffers("adam.v."))
        let ema = trainer.ema == nil ? nil : try buffers("ema.")
        let stored = [("model", trainer.model.parameters().map(\.data)), ("adam.m", m), ("adam.v", v), ("ema", ema ?? [])]
        for (name, buffers) in stored {
            let bad = buffers.reduce(0) { $0 + $1.filter { !$0.isFinite }.count }
            guard bad == 0 else {
                throw DiffusionError("\(source) holds \(bad) values in \(name) that are not finite; it is damaged: start a new run (without \(option: "resume", "resuming")).")
            }
        }
        trainer.optimizer.restore(stepCount: try counted("adam_step"), m: m, v: v)
        if let average = trainer.ema, let ema { average.restore(shadow: ema, updates: try counted("ema_updates")) }
        guard let losses = byName["train.losses"], losses.count == step else {
            throw DiffusionError("\(source) lacks the loss history of its \(step) steps; it is damaged: start a new run (without \(option: "resume", "resuming")).")
        }
        trainer.losses = losses.data
        trainer.step = step
        // A run draws far fewer than 2⁴⁸ numbers; a larger position is a damaged file (and would
        // overflow the generator's counter).
        let epochStart = try number("epoch_start_counter", UInt64.self), position = try number("rng_counter", UInt64.self)
        guard position < 1 << 48, epochStart <= position else {
            throw DiffusionError("\(source) holds an impossible generator position (\(epochStart), \(position)); it is damaged: start a new run (without \(option: "resume", "resuming")).")
        }
        trainer.epochStartCounter = epochStart
        // This epoch's shuffle is drawn again from where it was drawn, then the generator
        // continues where the saved run stopped.
        if trainer.batchInEpoch != 0 {
            var replay = RandomGenerator(seed: seed, counter: trainer.epochStartCounter)
            trainer.order = (saved.shuffle ?? .full).order(dataset.count, bufferSize: saved.bufferSize ?? 1000, using: &replay)
        }
        trainer.rng = RandomGenerator(seed: seed, counter: position)
        return trainer
    }

    /// Writes the weights used for sampling (the EMA's when there is one) as a plain state
    /// dict under PyTorch's names, loadable by `Unet.load_state_dict(strict=True)`, with the
    /// recipe in the metadata.
    public static func saveSamplingWeights(_ trainer: DiffusionTrainer, to url: URL) throws {
        try trainer.withSamplingWeights {
            try refuseNonFinite(trainer.model.namedParameters().map { ($0.name, $0.tensor) }, what: "the weights at step \(trainer.step)")
            try trainer.model.saveStateDict(to: url, metadata: [
                "recipe": trainer.recipe.json, "step": "\(trainer.step)", "seed": "\(trainer.seed)",
                "weights": trainer.ema == nil ? "trained" : "ema",
            ])
        }
    }
}
