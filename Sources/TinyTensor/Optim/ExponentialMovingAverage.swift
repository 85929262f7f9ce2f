import Foundation

/// An exponential moving average (EMA) of parameters, as kept by most diffusion trainers
/// (lucidrains' `ema-pytorch`, diffusers' `EMAModel`): after each optimizer step,
///
///     θ̄ ← d·θ̄ + (1 − d)·θ
///
/// The average smooths the noise of the last steps of stochastic training; samples are
/// drawn with the averaged weights. With `warmup`, the decay grows as d_n = min(d, (1 + n)/(10 + n))
/// (n = updates so far), so the early, random weights are forgotten quickly.
///
///     let ema = ExponentialMovingAverage(model.parameters(), decay: 0.995)
///     ... opt.step(); ema.update()
///     ema.withAveragedParameters { sample(model) }   // or ema.copyToParameters()
public final class ExponentialMovingAverage {
    public let parameters: [Tensor]
    public let decay: Float
    public let warmup: Bool
    /// The averages θ̄, one buffer per parameter.
    public private(set) var shadow: [[Float]]
    /// Number of `update()` calls so far.
    public private(set) var updates = 0

    public init(_ parameters: [Tensor], decay: Float = 0.999, warmup: Bool = true) {
        precondition((0...1).contains(decay), "ExponentialMovingAverage: decay must lie in [0, 1], got \(decay)")
        self.parameters = parameters
        self.decay = decay
        self.warmup = warmup
        shadow = parameters.map(\.data)
    }

    /// The decay used by the next update.
    public var currentDecay: Float {
        warmup ? Swift.min(decay, Float(1 + updates) / Float(10 + updates)) : decay
    }

    /// θ̄ ← d·θ̄ + (1 − d)·θ for every parameter.
    public func update() {
        let d = currentDecay, w = 1 - d
        for (i, p) in parameters.enumerated() {
            p.data.withUnsafeBufferPointer { theta in
                shadow[i].withUnsafeMutableBufferPointer { avg in
                    for j in 0..<avg.count { avg[j] += w * (theta[j] - avg[j]) }
                }
            }
        }
        updates += 1
    }

    /// Puts back averages and an update count read from a checkpoint.
    public func restore(shadow: [[Float]], updates: Int) {
        precondition(updates >= 0 && shadow.count == parameters.count
                     && zip(shadow, parameters).allSatisfy { $0.count == $1.count },
                     "ExponentialMovingAverage.restore: the averages do not match the parameters")
        self.shadow = shadow
        self.updates = updates
    }

    /// Overwrites the parameters with their averages (for the final model).
    public func copyToParameters() {
        for (i, p) in parameters.enumerated() { p.data = shadow[i] }
    }

    /// Runs `body` with the averaged weights in the parameters, then puts the trained ones back.
    public func withAveragedParameters<T>(_ body: () throws -> T) rethrows -> T {
        let saved = parameters.map(\.data)
        copyToParameters()
        defer { for (p, s) in zip(parameters, saved) { p.data = s } }
        return try body()
    }
}
