import Foundation
import TinyTensor

// The training loop of the 2D chapters (Algorithm 1 of Ho et al. 2020 on points in the plane).
// Chapter 4 trains and samples with it; Chapter 9 trains the same ε_θ to use it as a score model.

// MARK: - The recipe and the training loop (Algorithm 1)

/// Every hyperparameter of one training run (the command-line options fill it in).
public struct Toy2DRecipe: Codable, Equatable {
    public var timesteps = 250
    public var schedule = "linear"
    public var betaStart = 1e-4
    public var betaEnd = 0.02
    /// Multiply the linear betas by 1000/T (lucidrains' fix), so √ᾱ_T ≈ 0.006 for any T.
    public var rescaleBetas = false
    public var epochs = 200
    public var batchSize = 32
    public var learningRate: Float = 1e-3
    /// "constant" or "cosine" (decay to 1% of the peak over the run).
    public var learningRateSchedule = "constant"
    public var warmupSteps = 0
    /// "full" (a fresh permutation each epoch) or "buffer" (tf.data's shuffle buffer).
    public var shuffle = "buffer"
    public var bufferSize = 1000
    /// First width of the MLP (the tutorial's 128; hidden widths w, w/2, w/4, w/8).
    public var width = 128
    public var initialization = "glorot"
    /// 0 = no EMA of the weights; otherwise the decay of the average used for sampling.
    public var emaDecay: Float = 0
    public var variance = "posterior"
    public var loss = "mse"

    /// The tutorial as published (InFoCusp): T = 250 linear betas 1e-4…0.02 (signal left at
    /// t = T: 0.28), MSE, Keras Adam 1e-3, batch 32, 200 epochs, tf.data shuffle buffer of 1000.
    public static let tutorial = Toy2DRecipe()

    public init() {}

    /// This chapter's default: the tutorial with three fixes that cost nothing —
    /// a full shuffle every epoch (balanced clusters), the linear betas rescaled by 1000/T
    /// (x_T is really N(0, I): signal left 0.006), and a cosine learning-rate decay to 1e-5
    /// (the weights settle instead of jittering at the end of training).
    public static let improved: Toy2DRecipe = {
        var r = Toy2DRecipe()
        r.shuffle = "full"
        r.rescaleBetas = true
        r.learningRateSchedule = "cosine"
        return r
    }()

    /// Throws one sentence for the first value out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw DiffusionError(message) } }
        try check(timesteps >= 2 && timesteps <= 10_000, "--timesteps must be between 2 and 10000, got \(timesteps).")
        try check(BetaSchedule.allCases.map(\.rawValue).contains(schedule),
                  "unknown --schedule '\(schedule)'; choose linear, quadratic, cosine or sigmoid.")
        try check(epochs >= 1, "--epochs must be at least 1, got \(epochs).")
        try check(batchSize >= 1 && batchSize <= 8000, "--batch-size must be between 1 and 8000, got \(batchSize).")
        try check(learningRate > 0 && learningRate.isFinite, "--lr must be a positive number, got \(learningRate).")
        try check(["constant", "cosine"].contains(learningRateSchedule),
                  "unknown --lr-schedule '\(learningRateSchedule)'; choose constant or cosine.")
        try check(["full", "buffer"].contains(shuffle), "unknown --shuffle '\(shuffle)'; choose full or buffer.")
        try check(bufferSize >= 1, "the shuffle buffer must hold at least 1 point, got \(bufferSize).")
        try check(width >= 8 && width <= 4096, "--width must be between 8 and 4096, got \(width).")
        try check(emaDecay >= 0 && emaDecay < 1, "--ema-decay must be in [0, 1), got \(emaDecay).")
        try check(ReverseVariance(rawValue: variance) != nil, "unknown --variance '\(variance)'; choose posterior or beta.")
        try check(RegressionLoss(rawValue: loss) != nil, "unknown --loss '\(loss)'; choose mse, l1 or huber.")
        try check(["glorot", "pytorch"].contains(initialization), "unknown --init '\(initialization)'; choose glorot or pytorch.")
        _ = try noiseSchedule   // the beta range (and the 1000/T rescale) must make sense too
    }

    public var noiseSchedule: NoiseSchedule {
        get throws {
            try NoiseSchedule(named: schedule, timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd,
                              rescaleLinear: rescaleBetas)
        }
    }
}

/// What a training run leaves behind.
public struct TrainedToyDenoiser {
    public let model: MLPDenoiser
    public let diffusion: GaussianDiffusion
    /// The loss of every step.
    public let losses: [Float]
    public let seconds: Double
    public let steps: Int
    /// The averaged weights when the recipe asks for an EMA.
    public let ema: ExponentialMovingAverage?

    /// ε_θ with the weights used for sampling (the EMA when there is one).
    public func withSamplingWeights<T>(_ body: () throws -> T) rethrows -> T {
        if let ema { return try ema.withAveragedParameters(body) }
        return try body()
    }
}

/// The order in which one epoch visits the data points.
///
/// - full: a uniformly random permutation of all N points.
/// - buffer: tf.data's `shuffle(bufferSize)`: a buffer holds the next `bufferSize` points;
///   each output is a random element of the buffer, whose slot is refilled with the next
///   input point. On data stored cluster after cluster (as the tutorial's is), a buffer of
///   1000 never holds more than about two clusters at a time: each batch comes from a
///   narrow window of the data, and the last clusters are seen last in every epoch.
public func epochOrder(_ n: Int, shuffle: String, bufferSize: Int, using rng: inout RandomGenerator) -> [Int] {
    if shuffle == "full" { return rng.permutation(n) }
    var order: [Int] = []
    order.reserveCapacity(n)
    var buffer = Array(0..<min(bufferSize, n))
    var next = buffer.count
    let picks = rng.integers(count: n, below: Int.max)      // one random draw per output
    for pick in picks {
        let slot = pick % buffer.count
        order.append(buffer[slot])
        if next < n {
            buffer[slot] = next
            next += 1
        } else {
            buffer.swapAt(slot, buffer.count - 1)
            buffer.removeLast()
        }
    }
    return order
}

/// Trains ε_θ on `points` [N, 2] with the recipe: for each batch, Algorithm 1
/// (t ~ U{0..T−1}, ε ~ N(0, I), loss ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²), then Adam.
public func trainToyDenoiser(_ recipe: Toy2DRecipe, points: Tensor, using rng: inout RandomGenerator,
           progress: ((Int, Int, Float) -> Void)? = nil) throws -> TrainedToyDenoiser {
    let diffusion = GaussianDiffusion(schedule: try recipe.noiseSchedule)
    var config = MLPDenoiser.Configuration.scaled(width: recipe.width)
    config.initialization = recipe.initialization == "pytorch" ? .pytorch : .glorotUniform
    let model = MLPDenoiser(config, timesteps: recipe.timesteps, rng: &rng)
    let optimizer = Adam(model.parameters(), lr: recipe.learningRate)
    let ema = recipe.emaDecay > 0 ? ExponentialMovingAverage(model.parameters(), decay: recipe.emaDecay) : nil
    let loss = RegressionLoss(rawValue: recipe.loss) ?? .mse

    let n = points.shape[0], b = recipe.batchSize
    let batchesPerEpoch = (n + b - 1) / b                       // the last batch may be smaller
    let totalSteps = recipe.epochs * batchesPerEpoch
    var schedule = LearningRateSchedule.constant(recipe.learningRate)
    if recipe.learningRateSchedule == "cosine" {
        schedule = .cosine(peak: recipe.learningRate, floor: recipe.learningRate / 100,
                           steps: totalSteps - recipe.warmupSteps)
    }
    schedule = schedule.withWarmup(steps: recipe.warmupSteps)

    var losses: [Float] = []
    losses.reserveCapacity(totalSteps)
    let clock = Date()
    var step = 0
    for epoch in 0..<recipe.epochs {
        let order = epochOrder(n, shuffle: recipe.shuffle, bufferSize: recipe.bufferSize, using: &rng)
        for start in stride(from: 0, to: n, by: b) {
            let rows = Array(order[start..<min(start + b, n)])
            let x0 = points.indexSelect(rows, axis: 0)                               // [B, 2]
            let t = rng.integers(count: rows.count, below: recipe.timesteps)         // B steps
            let noise = Tensor.randn([rows.count, 2], using: &rng)                   // [B, 2]
            optimizer.lr = schedule(step)
            optimizer.zeroGrad()
            let l = diffusion.pLosses(model.callAsFunction, x0: x0, t: t, noise: noise, loss: loss)
            l.backward()
            optimizer.step()
            ema?.update()
            losses.append(l.item)
            step += 1
        }
        guard losses.last!.isFinite else {
            throw DiffusionError("the loss became \(losses.last!) in epoch \(epoch + 1); lower --lr (try 1e-3).")
        }
        progress?(epoch + 1, recipe.epochs, losses.suffix(batchesPerEpoch).reduce(0, +) / Float(batchesPerEpoch))
    }
    return TrainedToyDenoiser(model: model, diffusion: diffusion, losses: losses,
                        seconds: Date().timeIntervalSince(clock), steps: step, ema: ema)
}

/// Draws `count` samples with Algorithm 2 (and the whole trajectory when asked).
public func sampleToyDenoiser(_ trained: TrainedToyDenoiser, count: Int, variance: ReverseVariance, keepTrajectory: Bool,
            using rng: inout RandomGenerator) -> (samples: Tensor, trajectory: [Tensor], seconds: Double) {
    let clock = Date()
    let (x, trajectory) = trained.withSamplingWeights {
        trained.diffusion.pSampleLoop(trained.model.callAsFunction, shape: [count, 2], variance: variance,
                                      keepTrajectory: keepTrajectory, using: &rng)
    }
    return (x, trajectory, Date().timeIntervalSince(clock))
}
