import Foundation
import TinyTensor

/// Images a trainer can draw batches from: `images(indices)` is [N, C, H, W] in [−1, 1].
public protocol ImageDataset {
    var count: Int { get }
    func images(_ indices: [Int]) -> Tensor
}

/// Images with a class label each, for class-conditional training (Chapter 8).
public protocol LabeledImageDataset: ImageDataset {
    /// The labels of the images at `indices`, each in 0..<classes.
    func labels(_ indices: [Int]) -> [Int]
}

extension FashionMNIST: LabeledImageDataset {
    public func labels(_ indices: [Int]) -> [Int] { indices.map { Int(labels[$0]) } }
}

/// Algorithm 1 of DDPM on a dataset of images, one optimizer step at a time, with everything
/// a long run needs: a fresh shuffle every epoch, random flips, a learning-rate schedule, an
/// EMA of the weights, and a state that a checkpoint saves and restores exactly
/// (`TrainingCheckpoint`): a run interrupted and resumed ends with the same bits as one that
/// was never interrupted.
///
///     let trainer = try DiffusionTrainer(recipe: .improved, dataset: data, seed: 0)
///     while !trainer.finished { let loss = try trainer.trainStep() }
///
/// Where the random numbers go, in order (all from one seeded generator): at the start of
/// each epoch a permutation of the dataset; at each step the flips (one uniform per image),
/// for a class-conditional recipe the label-dropout coins (one uniform per image), the
/// timesteps t ~ U{0, …, T − 1} (one per image, or one per batch) and the noise ε ~ N(0, I).
public final class DiffusionTrainer {
    public let recipe: TrainingRecipe
    public let model: any DenoisingUNet
    public let diffusion: GaussianDiffusion
    public let optimizer: Adam
    /// The average of the weights used for sampling (nil when the recipe keeps none).
    public let ema: ExponentialMovingAverage?
    public let dataset: any ImageDataset
    public let seed: UInt64
    /// Optimizer steps per epoch: ⌈N / batch⌉ (the last batch of an epoch may be smaller,
    /// as with PyTorch's DataLoader).
    public let stepsPerEpoch: Int
    /// Steps of the whole run: epochs · stepsPerEpoch.
    public let totalSteps: Int
    let learningRates: LearningRateSchedule
    let lossKind: RegressionLoss

    /// Optimizer steps taken so far.
    public internal(set) var step = 0
    /// The loss of every step so far (kept in checkpoints, for the loss curve).
    public internal(set) var losses: [Float] = []
    /// The steps t of the last batch (for tests and curious readers).
    public internal(set) var lastTimesteps: [Int] = []
    /// The labels of the last batch after dropout (nil for an unconditional model).
    public internal(set) var lastLabels: [Int]?
    var rng: RandomGenerator
    /// The generator's position when this epoch's permutation was drawn (to redraw it on resume).
    var epochStartCounter: UInt64 = 0
    /// This epoch's order of the images.
    var order: [Int] = []

    /// A new run: the model initialised from `seed`, step 0.
    public init(recipe: TrainingRecipe, dataset: any ImageDataset, seed: UInt64) throws {
        try recipe.validate()
        guard recipe.numClasses == nil || dataset is any LabeledImageDataset else {
            throw DiffusionError("a class-conditional recipe needs images with labels; this dataset has none.")
        }
        guard dataset.count >= recipe.batchSize else {
            throw DiffusionError("the dataset has \(dataset.count) images, fewer than one batch of \(recipe.batchSize); lower --batch-size or use more images.")
        }
        self.recipe = recipe
        self.dataset = dataset
        self.seed = seed
        // The model's initial weights come from their own stream, so that the training
        // stream is the same whatever the model is.
        var initRng = RandomGenerator(seed: seed &+ 0x5EED)
        model = recipe.makeModel(channels: dataset.images([0]).shape[1], rng: &initRng)
        diffusion = GaussianDiffusion(schedule: try recipe.noiseSchedule())
        optimizer = Adam(model.parameters(), lr: recipe.learningRate)
        ema = recipe.emaDecay > 0 ? ExponentialMovingAverage(model.parameters(), decay: recipe.emaDecay) : nil
        stepsPerEpoch = (dataset.count + recipe.batchSize - 1) / recipe.batchSize
        totalSteps = stepsPerEpoch * recipe.epochs
        learningRates = recipe.learningRates(totalSteps: totalSteps)
        lossKind = RegressionLoss(rawValue: recipe.loss)!
        rng = RandomGenerator(seed: seed)
    }

    public var finished: Bool { step >= totalSteps }
    /// The epoch of the next step (0-based) and the batch within it.
    public var epoch: Int { step / stepsPerEpoch }
    public var batchInEpoch: Int { step % stepsPerEpoch }
    /// The learning rate of the next step.
    public var learningRate: Float { learningRates(step) }

    /// The noise predictor the sampler calls: ε_θ(x_t, t) with the current weights (for a
    /// class-conditional model: the unconditional prediction, with the null class).
    public var noisePredictor: NoisePredictor {
        let model = self.model
        return { x, t in model(x, Tensor(t.map(Float.init))) }
    }

    /// ε_θ(x_t, t, y) of a class-conditional model, one label per image (null class: numClasses).
    public func conditionalNoisePredictor(labels: [Int]) -> NoisePredictor {
        guard let predict = (model as? Unet)?.conditionalNoisePredictor else {
            preconditionFailure("conditionalNoisePredictor: the model is not class-conditional")
        }
        return { x, t in predict(x, t, labels) }
    }

    /// One step of Algorithm 1:
    ///
    ///     x_0 ~ data (flipped with p = ½),  t ~ U{0, …, T − 1},  ε ~ N(0, I)
    ///
    /// (one t per image; with the recipe's `oneTimestepPerBatch`, one t for the whole batch)
    ///     θ ← Adam(θ, ∇_θ loss(ε, ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)))
    ///
    /// then the EMA update. Returns the loss; throws if it is not finite (nothing is updated then).
    @discardableResult
    public func trainStep() throws -> Float {
        precondition(!finished, "trainStep: the run is already finished")
        if batchInEpoch == 0 {
            epochStartCounter = rng.counter
            order = rng.permutation(dataset.count)
        }
        let start = batchInEpoch * recipe.batchSize
        let indices = Array(order[start ..< min(start + recipe.batchSize, dataset.count)])
        var x0 = dataset.images(indices)                                       // [B, C, H, W] in [−1, 1]
        if recipe.horizontalFlip {
            let flips = rng.uniform(count: indices.count).map { $0 < 0.5 }
            x0 = ImageTransforms.horizontalFlip(x0, where: flips)             // [B, C, H, W]
        }
        // Class conditioning: each label is replaced by the null class with p = labelDropout,
        // so the network learns ε_θ(x_t, t, ∅) too (classifier-free guidance, Ho & Salimans).
        var labels: [Int]?
        if let numClasses = recipe.numClasses, let labeled = dataset as? any LabeledImageDataset {
            let coins = rng.uniform(count: indices.count)
            let dropout = Float(recipe.labelDropout ?? 0)
            labels = zip(labeled.labels(indices), coins).map { $1 < dropout ? numClasses : $0 }
        }
        let t = recipe.oneTimestepPerBatch == true
            ? [Int](repeating: rng.integers(count: 1, below: diffusion.timesteps)[0], count: indices.count)
            : rng.integers(count: indices.count, below: diffusion.timesteps) // [B] steps
        let noise = Tensor.randn(x0.shape, using: &rng)                       // ε  [B, C, H, W]
        lastTimesteps = t
        lastLabels = labels

        optimizer.lr = learningRates(step)
        optimizer.zeroGrad()
        let predictor = labels.map { conditionalNoisePredictor(labels: $0) } ?? noisePredictor
        let loss = diffusion.pLosses(predictor, x0: x0, t: t, noise: noise, loss: lossKind)   // []
        let value = loss.item
        guard value.isFinite else {
            throw DiffusionError("the loss became \(value) at step \(step + 1); lower --lr (now \(optimizer.lr)) and start again (or --resume from the last checkpoint).")
        }
        loss.backward()
        optimizer.step()
        ema?.update()
        losses.append(value)
        step += 1
        return value
    }

    /// Runs `body` with the weights used for sampling: the EMA's if there is one.
    public func withSamplingWeights<T>(_ body: () throws -> T) rethrows -> T {
        if let ema { return try ema.withAveragedParameters(body) }
        return try body()
    }
}

extension ImageTransforms {
    /// Mirrors the images whose entry in `flips` is true left to right
    /// (torchvision's `RandomHorizontalFlip`, with the coin tosses given).
    public static func horizontalFlip(_ images: Tensor, where flips: [Bool]) -> Tensor {
        precondition(images.rank == 4 && images.shape[0] == flips.count,
                     "horizontalFlip: \(flips.count) coin tosses for images of shape \(images.shape)")
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        var out = images.data
        for i in 0..<n where flips[i] {
            for row in 0..<(c * h) {
                let base = (i * c * h + row) * w
                for x in 0..<w { out[base + x] = images.data[base + w - 1 - x] }
            }
        }
        return Tensor(out, shape: images.shape)                               // [N, C, H, W]
    }
}
