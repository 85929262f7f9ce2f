import Foundation
import TinyTensor

/// Every hyperparameter of one image-diffusion training run: the U-Net, the noise schedule,
/// the loss, the optimizer and its learning-rate schedule, the EMA, the data augmentation.
///
/// Presets (`TrainingRecipe.named`):
/// - `tutorial`: "The Annotated Diffusion Model" as published (Fashion-MNIST section).
/// - `mindspore`: the MindSpore port of that post (its U-Net, T = 200, cosine decay).
/// - `tworesunet`: "DDPM from scratch in PyTorch" (its TwoResUNet, T = 1000, L2, EMA).
/// - `default`: the tutorial with the fixes Chapter 6 measured (see its README).
/// - `lesson`: `default` on a narrower U-Net for two short epochs: a training that fits a lesson.
/// - `conditional`: `default` with class labels and label dropout (Chapter 8).
///
/// A recipe is saved inside every checkpoint (as JSON), so a run can only be resumed with the
/// recipe it was started with.
public struct TrainingRecipe: Codable, Equatable, Sendable {
    /// The preset it started from (`tutorial`, `mindspore`, `tworesunet`, `default`, …), for the printouts.
    public var name: String

    // MARK: The model ε_θ(x_t, t)
    /// Which network: nil for the Annotated post's U-Net, or mindspore, tworesunet, mlp. Optional,
    /// and nil rather than "annotated", so that the Annotated recipes' JSON (kept in every
    /// checkpoint) is what it was before the others existed, and old files still read.
    public var model: DenoiserKind?
    /// Unet(dim, dimMults): channel widths dim · dimMults at the levels (28 · [1, 2, 4]).
    public var dim = 28
    public var dimMults = [1, 2, 4]
    /// The Annotated U-Net's block: resnet (the post) or convnext (ConvNeXt blocks with
    /// transposed-conv upsampling). The other two U-Nets are made of ConvNeXt blocks: convnext.
    public var block: UNetBlock = .resnet
    /// Class conditioning (Chapter 8): the number of classes of a class-conditional Annotated
    /// U-Net (10 for Fashion-MNIST), nil for an unconditional one. Optional like `model`.
    public var numClasses: Int?
    /// The probability that a training image's label is replaced by the null class, so the
    /// same network also learns the unconditional prediction (classifier-free guidance).
    public var labelDropout: Double?
    /// The MLP's first width (the 2D tutorial's 128; hidden widths w, w/2, w/4, w/8); MLP only.
    public var width: Int?
    /// The MLP's weight initialisation (Keras' Glorot, the tutorial's, or PyTorch's); MLP only.
    public var initialization: MLPInitialization?

    // MARK: The forward process q(x_t | x_0)
    public var timesteps = 300
    /// linear, quadratic, cosine or sigmoid (Chapter 2).
    public var schedule: BetaSchedule = .linear
    public var betaStart = 1e-4
    public var betaEnd = 0.02
    /// Multiply the linear betas by 1000/T, so √ᾱ_T is as small as with T = 1000 (Chapter 4).
    public var rescaleBetas = false

    // MARK: The objective and the optimizer
    /// mse (DDPM's L_simple), l1 or huber (the Annotated post's choice).
    public var loss: RegressionLoss = .huber
    /// true: one step t for the whole batch, as the TwoResUNet article's DiffusionModel draws it
    /// (`torch.randint(0, T, (1,))`); nil: one per image (Algorithm 1). Optional like `model`.
    public var oneTimestepPerBatch: Bool?
    public var batchSize = 128
    public var epochs = 6
    /// Adam's peak learning rate.
    public var learningRate: Float = 1e-3
    /// constant, or cosine: decay from the peak to `learningRateFloor` over the run.
    public var learningRateSchedule: LearningRateDecay = .constant
    public var learningRateFloor: Float = 0
    /// Linear warm-up steps before the schedule.
    public var warmupSteps = 0
    /// 0 = no average; otherwise the decay d of the EMA of the weights used for sampling,
    /// with warm-up d_n = min(d, (1 + n)/(10 + n)).
    public var emaDecay: Float = 0
    /// Random horizontal flips (p = 0.5) of the training images.
    public var horizontalFlip = true
    /// The order of an epoch: nil or full (a fresh permutation), or buffer (tf.data's shuffle
    /// buffer of `bufferSize`, the 2D tutorial's). Optional like `model`.
    public var shuffle: Shuffle?
    public var bufferSize: Int?

    // MARK: Sampling (Algorithm 2)
    /// σ_t² of the reverse step: posterior (β̃_t, the post's choice) or beta.
    public var variance: ReverseVariance = .posterior

    public init(name: String) { self.name = name }

    /// The post as published: Unet(dim 28, dimMults (1, 2, 4)), ResNet blocks, T = 300 linear
    /// betas 1e-4 … 0.02 (√ᾱ_T = 0.22: a fifth of the image is left where sampling starts
    /// from pure noise), Huber loss, Adam lr 1e-3 constant, batch 128, 6 epochs, no EMA.
    public static let tutorial = TrainingRecipe(name: "tutorial")

    /// The MindSpore port: its U-Net (`MindSporeUnet`: ConvNeXt blocks, strided and transposed
    /// convs), T = 200 linear (√ᾱ_T = 0.36), Huber, Adam with cosine decay 1e-4 → 1e-7, batch 16,
    /// 10 epochs.
    public static let mindspore: TrainingRecipe = {
        var r = TrainingRecipe(name: "mindspore")
        r.model = .mindspore
        r.block = .convnext
        r.timesteps = 200
        r.learningRate = 1e-4
        r.learningRateSchedule = .cosine
        r.learningRateFloor = 1e-7
        r.batchSize = 16
        r.epochs = 10
        return r
    }()

    /// "DDPM from scratch in PyTorch" (seeds/002) on Fashion-MNIST: its `TwoResUNet` (here at
    /// the tutorial's dim 28, dimMults (1, 2, 4)); its DiffusionModel's defaults — T = 1000
    /// linear betas 1e-4 … 0.02 (√ᾱ_T = 0.006), the L2 loss (MSE), one t per batch; its
    /// training — batch 16 for 37,000 steps (here 10 epochs of 3,750 = 37,500), sampling with
    /// an EMA of the weights. The article does not give the optimizer, the learning rate or the
    /// EMA decay; its DiffusionModel follows lucidrains' denoising-diffusion-pytorch, whose
    /// Trainer defaults are taken: Adam 1e-4 constant, EMA 0.995, horizontal flips.
    public static let tworesunet: TrainingRecipe = {
        var r = TrainingRecipe(name: "tworesunet")
        r.model = .tworesunet
        r.block = .convnext
        r.timesteps = 1000
        r.loss = .mse
        r.oneTimestepPerBatch = true
        r.batchSize = 16
        r.epochs = 10
        r.learningRate = 1e-4
        r.emaDecay = 0.995
        return r
    }()

    /// Chapter 6's default: the tutorial's model, data and step count, with
    /// - the linear betas rescaled by 1000/T: √ᾱ_T = 0.006, x_T really is noise;
    /// - MSE, DDPM's own L_simple (Eq. 14);
    /// - learning-rate warm-up (100 steps) and cosine decay to 1e-5 instead of a constant 1e-3;
    /// - an EMA of the weights (0.999 with warm-up) for sampling;
    /// - no random flips: every Fashion-MNIST shoe points left, so mirrored images teach the model
    ///   shoes the data does not have (measured, 256 samples: after one epoch classifier-FID
    ///   370 and 409 for seeds 0 and 1 against 610 and 601 with flips; after the six epochs 100.0
    ///   against 183.4; Chapter 6's README).
    public static let improved: TrainingRecipe = {
        var r = TrainingRecipe(name: "default")
        r.rescaleBetas = true
        r.loss = .mse
        r.learningRateSchedule = .cosine
        r.learningRateFloor = 1e-5
        r.warmupSteps = 100
        r.emaDecay = 0.999
        r.horizontalFlip = false
        return r
    }()

    /// A run that fits a lesson: the default recipe on a narrower U-Net (dim 16: widths 16, 32,
    /// 64; 2.02 M → 0.71 M parameters, half the time per image) with smaller batches (64) and a
    /// higher peak learning rate (2e-3) for two epochs, 1,876 steps: about 30 minutes on 2
    /// cores of a Zen 3 (AVX2), under 15 on a Zen 5 (AVX-512). A shorter EMA (0.995, about
    /// the last 200 steps) suits the shorter run. Chapter 6's README gives what it draws.
    public static let lesson: TrainingRecipe = {
        var r = improved
        r.name = "lesson"
        r.dim = 16
        r.batchSize = 64
        r.epochs = 2
        r.learningRate = 2e-3
        r.emaDecay = 0.995
        return r
    }()

    /// Chapter 8's class-conditional model: the default recipe with a label embedding for the
    /// 10 classes (plus the null class) and the label dropped with p = 0.1, so that the same
    /// network predicts both ε_θ(x_t, t, y) and ε_θ(x_t, t, ∅) for classifier-free guidance.
    /// Unlike the default it keeps the post's random flips (its committed model has them).
    /// Two epochs (938 steps, its cosine decay over them), the length of Chapter 8's committed
    /// model: 18–21 minutes at Chapter 6's step times on 2 cores of the Zen 5, about an hour at
    /// its 3.8 s per step on the Zen 3 (Benchmarks/MACHINES.md). `--epochs 6` trains as long as
    /// Chapter 6's model.
    public static let conditional: TrainingRecipe = {
        var r = improved
        r.name = "conditional"
        r.numClasses = 10
        r.labelDropout = 0.1
        r.epochs = 2
        // Chapter 8's committed model was trained with the post's flips (before the default
        // dropped them); its README measures what the mirrored shoes do to the classifier.
        r.horizontalFlip = true
        return r
    }()

    /// The 2D tutorial as published (InFoCusp; Chapter 4): its MLP of first width 128 with Keras'
    /// Glorot initialisation, T = 250 linear betas 1e-4…0.02 (signal left at t = T: 0.28), MSE,
    /// Adam 1e-3 constant, batch 32, 200 epochs, tf.data's shuffle buffer of 1000, no flips.
    public static let toyTutorial: TrainingRecipe = {
        var r = TrainingRecipe(name: "tutorial")
        r.model = .mlp
        r.width = 128
        r.initialization = .glorot
        r.timesteps = 250
        r.loss = .mse
        r.batchSize = 32
        r.epochs = 200
        r.horizontalFlip = false
        r.shuffle = .buffer
        r.bufferSize = 1000
        return r
    }()

    /// Chapter 4's default: the 2D tutorial with three fixes that cost nothing — a full shuffle
    /// every epoch (balanced clusters), the linear betas rescaled by 1000/T (x_T is really
    /// N(0, I): signal left 0.006), and a cosine learning-rate decay to 1 % of the peak (the
    /// weights settle instead of jittering at the end of training).
    public static let toyImproved: TrainingRecipe = {
        var r = toyTutorial
        r.name = "improved"
        r.shuffle = .full
        r.rescaleBetas = true
        r.learningRateSchedule = .cosine
        r.learningRateFloor = r.learningRate / 100
        return r
    }()

    /// The image presets by name (Chapter 6's `--recipe`).
    public static let presets = ["default": improved, "lesson": lesson, "tutorial": tutorial, "mindspore": mindspore,
                                 "tworesunet": tworesunet, "conditional": conditional]
    /// The 2D presets by name (Chapter 4's `--recipe`).
    public static let toyPresets = ["improved": toyImproved, "tutorial": toyTutorial]

    /// Throws one sentence for the first value out of range, naming the field as a setting
    /// (`DiffusionError`'s `option:` keys are the field names).
    public func validate() throws {
        func check(_ ok: Bool, _ message: DiffusionError.Message) throws { if !ok { throw DiffusionError(message) } }
        if model == .mlp {
            let width = self.width ?? 128
            try check(width >= 8 && width <= 4096, "\(option: "width", "the width") must be between 8 and 4096, got \(width).")
            try check(numClasses == nil, "class conditioning is built into the Annotated U-Net only, not the MLP.")
        } else {
            let architecture = unetArchitecture
            try check(dim >= 4 && dim <= 256, "\(option: "dim", "dim") must be between 4 and 256, got \(dim).")
            try check(!dimMults.isEmpty && dimMults.allSatisfy { (1...16).contains($0) },
                      "\(option: "dimMults", "dimMults") must be 1 to 16 each, got \(dimMults).")
            try check(architecture == .annotated || block == .convnext,
                      "the \(architecture.rawValue) U-Net is made of ConvNeXt blocks; \(option: "block", "the block") \(block.rawValue) applies to the annotated U-Net only.")
            try check(architecture != .mindspore || dimMults.count >= 2,
                      "the mindspore U-Net needs at least two levels in \(option: "dimMults", "dimMults") (its up path has one fewer), got \(dimMults).")
            try check(numClasses.map { (1...1000).contains($0) } ?? true, "the number of classes must be 1 to 1000, got \(numClasses ?? 0).")
            try check(numClasses == nil || architecture == .annotated,
                      "class conditioning is built into the Annotated U-Net only (\(option: "model", "model") annotated), not \(architecture.rawValue).")
        }
        try check(labelDropout.map { $0 >= 0 && $0 <= 1 } ?? true, "\(option: "labelDropout", "the label dropout") must be in [0, 1], got \(labelDropout ?? 0).")
        try check(labelDropout == nil || numClasses != nil, "\(option: "labelDropout", "a label dropout") needs a class-conditional model.")
        // The MLP's steps are cheap: it may take more of them and larger batches.
        let (maxT, maxBatch, maxEpochs) = model == .mlp ? (10_000, 8000, Int.max) : (4000, 1024, 1000)
        try check(timesteps >= 2 && timesteps <= maxT, "\(option: "timesteps", "T") must be between 2 and \(maxT), got \(timesteps).")
        try check(batchSize >= 1 && batchSize <= maxBatch,
                  "\(option: "batchSize", "the batch size") must be between 1 and \(maxBatch), got \(batchSize).")
        try check(epochs >= 1 && epochs <= maxEpochs, "\(option: "epochs", "the number of epochs") must be between 1 and \(maxEpochs), got \(epochs).")
        try check(learningRate > 0 && learningRate < 1, "\(option: "learningRate", "the learning rate") must be in (0, 1), got \(learningRate).")
        try check(learningRateFloor >= 0 && learningRateFloor <= learningRate,
                  "\(option: "learningRateFloor", "the learning-rate floor") must be between 0 and the peak learning rate (\(learningRate)), got \(learningRateFloor).")
        try check(warmupSteps >= 0 && warmupSteps <= 1_000_000, "\(option: "warmupSteps", "the warm-up") must be between 0 and 1000000 steps, got \(warmupSteps).")
        try check(emaDecay >= 0 && emaDecay < 1, "\(option: "emaDecay", "the EMA decay") must be in [0, 1) (0 = no EMA), got \(emaDecay).")
        try check((bufferSize ?? 1) >= 1, "the shuffle buffer must hold at least 1 example, got \(bufferSize ?? 0).")
        _ = try noiseSchedule()
    }

    /// β_1 … β_T and everything derived from them.
    public func noiseSchedule() throws -> NoiseSchedule {
        try NoiseSchedule(schedule, timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd, rescaleLinear: rescaleBetas)
    }

    /// The learning rate at each optimizer step (0-based) of a run of `totalSteps` steps.
    public func learningRates(totalSteps: Int) -> LearningRateSchedule {
        let decay = max(1, totalSteps - warmupSteps)
        let base: LearningRateSchedule = learningRateSchedule == .cosine
            ? .cosine(peak: learningRate, floor: learningRateFloor, steps: decay)
            : .constant(learningRate)
        return base.withWarmup(steps: warmupSteps)
    }

    /// The U-Net of this recipe (the Annotated one unless `model` names another).
    public var unetArchitecture: UNetArchitecture {
        switch model {
        case .mindspore: return .mindspore
        case .tworesunet: return .tworesunet
        default: return .annotated
        }
    }

    /// A freshly initialised U-Net of this recipe for images with `channels` channels.
    public func makeUNet(channels: Int = 1, rng: inout RandomGenerator) -> any DenoisingUNet {
        precondition(model != .mlp, "makeUNet: this recipe's model is the MLP")
        return unetArchitecture.make(dim: dim, dimMults: dimMults, channels: channels, convNext: block == .convnext,
                                     numClasses: numClasses, rng: &rng)
    }

    /// A freshly initialised network of this recipe for data of `shape` [N, ...] (images
    /// [N, C, H, W] for a U-Net, points [N, D] for the MLP).
    public func makeModel(dataShape shape: [Int], rng: inout RandomGenerator) -> any NoiseModel {
        guard model == .mlp else { return makeUNet(channels: shape[1], rng: &rng) }
        var config = MLPDenoiser.Configuration.scaled(width: width ?? 128)
        config.dataDim = shape[1]
        config.initialization = initialization == .pytorch ? .pytorch : .glorotUniform
        return MLPDenoiser(config, timesteps: timesteps, rng: &rng)
    }

    /// The recipe as one line of JSON (stored in checkpoints; keys sorted, stable bytes).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// Every field in which `other` differs from this recipe, both ways, in words:
    /// "model: annotated vs mindspore", "horizontalFlip: no vs yes" (this recipe first). A field
    /// that one side leaves out reads as what leaving it out means.
    public func differences(from other: TrainingRecipe) -> [String] {
        let absent = ["model": "annotated", "oneTimestepPerBatch": "no", "shuffle": "full"]
        func words(_ r: TrainingRecipe) -> [(String, String)] {
            Mirror(reflecting: r).children.compactMap { child -> (String, String)? in
                guard let name = child.label, name != "name" else { return nil }
                // An optional field: its value, or nil when it is left out.
                let mirror = Mirror(reflecting: child.value)
                let value: Any? = mirror.displayStyle == .optional ? mirror.children.first?.value : child.value
                let shown = value.map { ($0 as? Bool).map { $0 ? "yes" : "no" } ?? "\($0)" } ?? "none"
                return (name, shown == "none" ? absent[name] ?? "none" : shown)
            }
        }
        return zip(words(self), words(other)).filter { $0.0.1 != $0.1.1 }.map { "\($0.0.0): \($0.0.1) vs \($0.1.1)" }
    }
}
