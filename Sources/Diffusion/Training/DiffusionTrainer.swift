import Foundation
import TinyTensor

/// Examples a trainer can draw batches from: `examples(indices)` is [N, ...] — images
/// [N, C, H, W] in [−1, 1], or points [N, 2].
public protocol TrainingData {
    var count: Int { get }
    func examples(_ indices: [Int]) -> Tensor
}

/// Examples with a class label each, for class-conditional training (Chapter 8).
public protocol LabeledTrainingData: TrainingData {
    /// The labels of the examples at `indices`, each in 0..<classes.
    func labels(_ indices: [Int]) -> [Int]
}

extension FashionMNIST: LabeledTrainingData {
    public func examples(_ indices: [Int]) -> Tensor { images(indices) }
    public func labels(_ indices: [Int]) -> [Int] { indices.map { Int(labels[$0]) } }
}

extension ToyDataset: TrainingData {
    public func examples(_ indices: [Int]) -> Tensor { points.indexSelect(indices, axis: 0) }   // [B, 2]
}

/// Algorithm 1 of DDPM, one optimizer step at a time, for any `NoiseModel` on any
/// `TrainingData` — the 2D points of Chapter 4 and the images of Chapter 6 alike — with
/// everything a long run needs: a fresh shuffle every epoch, random flips, a learning-rate
/// schedule, an EMA of the weights, and a state that a checkpoint saves and restores exactly
/// (`TrainingCheckpoint`): a run interrupted and resumed ends with the same bits as one that
/// was never interrupted.
///
///     let trainer = try DiffusionTrainer(recipe: .improved, dataset: data, seed: 0)
///     while !trainer.finished { let loss = try trainer.trainStep() }
///
/// Chapters 4 and 6 write `trainStep` out, line by line (`nextBatch`, `drawTimesteps`, ε,
/// `qSample`, the model, the loss, `update`).
///
/// Where the random numbers go, in order (all from one generator): at the start of each epoch
/// the epoch's order; at each step the flips (one uniform per image), for a class-conditional
/// recipe the label-dropout coins (one uniform per image), the timesteps t ~ U{0, …, T − 1}
/// (one per example, or one per batch) and the noise ε ~ N(0, I).
public final class DiffusionTrainer {
    public let recipe: TrainingRecipe
    public let model: any NoiseModel
    public let diffusion: GaussianDiffusion
    public let optimizer: Adam
    /// The average of the weights used for sampling (nil when the recipe keeps none).
    public let ema: ExponentialMovingAverage?
    public let dataset: any TrainingData
    public let seed: UInt64
    /// Optimizer steps per epoch: ⌈N / batch⌉ (the last batch of an epoch may be smaller,
    /// as with PyTorch's DataLoader).
    public let stepsPerEpoch: Int
    /// Steps of the whole run: epochs · stepsPerEpoch.
    public let totalSteps: Int
    let learningRates: LearningRateSchedule
    /// The regression loss of the recipe (MSE is DDPM's L_simple).
    public let lossFunction: RegressionLoss

    /// Optimizer steps taken so far.
    public internal(set) var step = 0
    /// The loss of every step so far (kept in checkpoints, for the loss curve).
    public internal(set) var losses: [Float] = []
    /// The steps t of the last batch (for tests and curious readers).
    public internal(set) var lastTimesteps: [Int] = []
    /// The labels of the last batch after dropout (nil for an unconditional model).
    public internal(set) var lastLabels: [Int]?
    /// The run's one generator: shuffles, flips, label dropout, t and ε (checkpoints save its position).
    public var rng: RandomGenerator
    /// The generator's position when this epoch's order was drawn (to redraw it on resume).
    var epochStartCounter: UInt64 = 0
    /// This epoch's order of the examples.
    var order: [Int] = []

    /// A new image run: the model of the recipe initialised from its own stream (seed + 0x5EED),
    /// so that the training stream, from `seed`, is the same whatever the model is.
    public convenience init(recipe: TrainingRecipe, dataset: any TrainingData, seed: UInt64) throws {
        try recipe.validate()
        try DiffusionTrainer.checkBatch(recipe, dataset)
        var initRng = RandomGenerator(seed: seed &+ 0x5EED)
        let model = recipe.makeModel(dataShape: dataset.examples([0]).shape, rng: &initRng)
        try self.init(recipe: recipe, model: model, dataset: dataset, rng: RandomGenerator(seed: seed), seed: seed)
    }

    /// A new run of `model` (freshly initialised by the caller) whose random numbers continue
    /// from `rng` (Chapter 4 draws the data, the weights and the training from one generator).
    public init(recipe: TrainingRecipe, model: any NoiseModel, dataset: any TrainingData, rng: RandomGenerator,
                seed: UInt64) throws {
        try recipe.validate()
        try DiffusionTrainer.checkBatch(recipe, dataset)
        self.recipe = recipe
        self.dataset = dataset
        self.seed = seed
        self.model = model
        diffusion = GaussianDiffusion(schedule: try recipe.noiseSchedule())
        optimizer = Adam(model.parameters(), lr: recipe.learningRate)
        ema = recipe.emaDecay > 0 ? ExponentialMovingAverage(model.parameters(), decay: recipe.emaDecay) : nil
        stepsPerEpoch = (dataset.count + recipe.batchSize - 1) / recipe.batchSize
        totalSteps = stepsPerEpoch * recipe.epochs
        learningRates = recipe.learningRates(totalSteps: totalSteps)
        lossFunction = recipe.loss
        self.rng = rng
    }

    static func checkBatch(_ recipe: TrainingRecipe, _ dataset: any TrainingData) throws {
        guard recipe.numClasses == nil || dataset is any LabeledTrainingData else {
            throw DiffusionError("a class-conditional recipe needs examples with labels; this dataset has none.")
        }
        guard dataset.count >= recipe.batchSize else {
            throw DiffusionError("the dataset has \(dataset.count) examples, fewer than one batch of \(recipe.batchSize); lower \(option: "batchSize", "the batch size") or use more examples.")
        }
    }

    public var finished: Bool { step >= totalSteps }
    /// The epoch of the next step (0-based) and the batch within it.
    public var epoch: Int { step / stepsPerEpoch }
    public var batchInEpoch: Int { step % stepsPerEpoch }
    /// The learning rate of the next step.
    public var learningRate: Float { learningRates(step) }

    /// The noise predictor the sampler calls: ε_θ(x_t, t) with the current weights (for a
    /// class-conditional model: the unconditional prediction, with the null class).
    public var noisePredictor: NoisePredictor { model.noisePredictor }

    /// ε_θ(x_t, t, y) of a class-conditional model, one label per image (null class: numClasses).
    public func conditionalNoisePredictor(labels: [Int]) -> NoisePredictor {
        let model = self.model
        return { x, t in model.predictNoise(x, t, labels: labels) }
    }

    // MARK: - One step of Algorithm 1, in the pieces a chapter writes out

    /// The next batch x_0 ~ data [B, C, H, W] in [−1, 1]: a fresh permutation at the start of
    /// each epoch, then each image flipped left-right with p = ½ when the recipe asks for it.
    /// For a class-conditional recipe, the labels too, each replaced by the null class with
    /// p = labelDropout, so the network learns ε_θ(x_t, t, ∅) as well (classifier-free
    /// guidance, Ho & Salimans).
    public func nextBatch() -> (x0: Tensor, labels: [Int]?) {
        precondition(!finished, "nextBatch: the run is already finished")
        if batchInEpoch == 0 {
            epochStartCounter = rng.counter
            order = (recipe.shuffle ?? .full).order(dataset.count, bufferSize: recipe.bufferSize ?? 1000, using: &rng)
        }
        let start = batchInEpoch * recipe.batchSize
        let indices = Array(order[start ..< min(start + recipe.batchSize, dataset.count)])
        var x0 = dataset.examples(indices)                                     // [B, C, H, W] in [−1, 1], or [B, 2]
        if recipe.horizontalFlip {
            let flips = rng.uniform(count: indices.count).map { $0 < 0.5 }
            x0 = ImageTransforms.horizontalFlip(x0, where: flips)             // [B, C, H, W]
        }
        var labels: [Int]?
        if let numClasses = recipe.numClasses, let labeled = dataset as? any LabeledTrainingData {
            let coins = rng.uniform(count: indices.count)
            let dropout = Float(recipe.labelDropout ?? 0)
            labels = zip(labeled.labels(indices), coins).map { $1 < dropout ? numClasses : $0 }
        }
        lastLabels = labels
        return (x0, labels)
    }

    /// t ~ U{0, …, T − 1}, one per image (Algorithm 1), or one for the whole batch when the
    /// recipe says `oneTimestepPerBatch` (the TwoResUNet article's DiffusionModel).
    public func drawTimesteps(count: Int) -> [Int] {
        let t = recipe.oneTimestepPerBatch == true
            ? [Int](repeating: rng.integers(count: 1, below: diffusion.timesteps)[0], count: count)
            : rng.integers(count: count, below: diffusion.timesteps)          // [B] steps
        lastTimesteps = t
        return t
    }

    /// A loss above this means the training diverged: predicting ε = 0 scores about 1 (the
    /// noise has unit variance, and every loss of the course is at most MSE), and a working run
    /// stays far below it. Checked, with the weights' finiteness, at every step.
    public static let divergedLoss: Float = 1000

    /// The gradient step on `loss`: θ ← Adam(θ, ∇_θ loss) at this step's learning rate, then
    /// the EMA of the weights. Returns the loss. Throws when the loss is not finite or above
    /// `divergedLoss` (nothing is updated then), or when the step left a weight that is not
    /// finite (the run is over: its last checkpoint stays as it was).
    @discardableResult
    public func update(_ loss: Tensor) throws -> Float {
        let value = loss.item
        let advice: DiffusionError.Message = "lower \(option: "learningRate", "the learning rate") (now \(learningRates(step))) and start again, or \(option: "resume", "resume") from the last checkpoint."
        guard value.isFinite, value <= Self.divergedLoss else {
            throw DiffusionError("the loss became \(value) at step \(step + 1)\(value.isFinite ? " (above \(Self.divergedLoss): the training diverged)" : ""); " + advice)
        }
        optimizer.lr = learningRates(step)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        guard model.parameters().allSatisfy({ allFinite($0.data) }) else {
            let broken = model.parameters().reduce(0) { $0 + $1.data.filter { !$0.isFinite }.count }
            throw DiffusionError("step \(step + 1) left \(broken) weights that are not finite: the training diverged; " + advice)
        }
        ema?.update()
        losses.append(value)
        step += 1
        return value
    }

    /// One whole step of Algorithm 1 (Chapter 6 writes the same lines out):
    ///
    ///     x_0 ~ data,  t ~ U{0, …, T − 1},  ε ~ N(0, I)
    ///     θ ← Adam(θ, ∇_θ loss(ε, ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)))
    ///
    /// then the EMA update. Returns the loss; throws if it is not finite.
    @discardableResult
    public func trainStep() throws -> Float {
        let (x0, labels) = nextBatch()                                         // [B, C, H, W]
        let t = drawTimesteps(count: x0.shape[0])                              // [B]
        let noise = Tensor.randn(x0.shape, using: &rng)                        // ε  [B, C, H, W]
        let predictor = labels.map { conditionalNoisePredictor(labels: $0) } ?? noisePredictor
        return try update(diffusion.pLosses(predictor, x0: x0, t: t, noise: noise, loss: lossFunction))
    }

    /// Runs `body` with the weights used for sampling: the EMA's if there is one.
    public func withSamplingWeights<T>(_ body: () throws -> T) rethrows -> T {
        if let ema { return try ema.withAveragedParameters(body) }
        return try body()
    }
}

/// Whether every value is finite: Σ 0·x is 0 for finite x and NaN for NaN or ±∞, and the
/// sum vectorises (a branch per value would not).
func allFinite(_ values: [Float]) -> Bool {
    values.withUnsafeBufferPointer { buffer in
        var sum: Float = 0
        for x in buffer { sum += 0 * x }
        return sum == 0
    }
}
