import Foundation
import TinyTensor

/// The Gaussian diffusion of Ho et al. (2020): a fixed forward process that adds noise
/// according to a `NoiseSchedule`, and (in later files, as extensions of this type) the
/// learned reverse process.
///
/// Timesteps are 0-based indices into the schedule arrays, as in the reference code:
/// index `t` is the paper's step t + 1, so `qSample(x0, t: [0])` is one step of noise and
/// `t: [T − 1]` is x_T.
public final class GaussianDiffusion {
    /// β_t and every derived array.
    public let schedule: NoiseSchedule

    public init(schedule: NoiseSchedule) { self.schedule = schedule }

    /// Number of steps T.
    public var timesteps: Int { schedule.timesteps }

    // MARK: - Gathering per-sample coefficients

    /// The tutorials' `extract(a, t, x_shape)`: picks `a[t[b]]` for every sample b and shapes
    /// the result [B, 1, 1, ...] so that it broadcasts against a tensor of shape `shape`.
    ///
    /// `a` has shape [T], `t` has B entries (B = shape[0]); the result has rank `shape.count`.
    public static func extract(_ a: Tensor, _ t: [Int], _ shape: [Int]) -> Tensor {
        precondition(a.rank == 1, "extract: expected a 1-D schedule array, got shape \(a.shape)")
        precondition(!shape.isEmpty && shape[0] == t.count,
                     "extract: \(t.count) timesteps for a batch of shape \(shape)")
        let picked = a.indexSelect(t, axis: 0)                                   // [B]
        return picked.reshape([t.count] + Array(repeating: 1, count: shape.count - 1)) // [B, 1, ...]
    }

    /// Checks that every timestep is a valid index, with a readable message.
    func checkTimesteps(_ t: [Int], batch: Int) {
        precondition(t.count == batch, "expected one timestep per sample: \(t.count) timesteps for \(batch) samples")
        for v in t { precondition(v >= 0 && v < timesteps, "timestep \(v) out of range 0..<\(timesteps)") }
    }

    // MARK: - The forward process q

    /// Samples x_t ~ q(x_t | x_0) in closed form (DDPM Eq. 4, "the nice property"):
    ///
    ///     x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε,   ε ~ N(0, I)
    ///
    /// - Parameters:
    ///   - x0: clean data [B, ...].
    ///   - t: one timestep index per sample (B entries).
    ///   - noise: ε with the shape of `x0`.
    public func qSample(_ x0: Tensor, t: [Int], noise: Tensor) -> Tensor {
        checkTimesteps(t, batch: x0.shape[0])
        precondition(noise.shape == x0.shape, "qSample: noise \(noise.shape) must match x0 \(x0.shape)")
        let a = GaussianDiffusion.extract(schedule.sqrtAlphasCumprod, t, x0.shape)          // [B, 1, ...]
        let s = GaussianDiffusion.extract(schedule.sqrtOneMinusAlphasCumprod, t, x0.shape)  // [B, 1, ...]
        return a * x0 + s * noise                                                            // [B, ...]
    }

    /// Same, drawing ε from `rng`.
    public func qSample(_ x0: Tensor, t: [Int], using rng: inout RandomGenerator) -> Tensor {
        qSample(x0, t: t, noise: Tensor.randn(x0.shape, using: &rng))
    }

    /// Mean and variance of q(x_t | x_0) (Eq. 4): (√ᾱ_t x_0, 1 − ᾱ_t), the variance as [B, 1, ...].
    public func qMeanVariance(_ x0: Tensor, t: [Int]) -> (mean: Tensor, variance: Tensor) {
        checkTimesteps(t, batch: x0.shape[0])
        let mean = GaussianDiffusion.extract(schedule.sqrtAlphasCumprod, t, x0.shape) * x0
        let variance = 1 - GaussianDiffusion.extract(schedule.alphasCumprod, t, x0.shape)
        return (mean, variance)
    }

    /// One step of the Markov chain (DDPM Eq. 2):
    ///
    ///     q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I),  so  x_t = √(1 − β_t) x_{t−1} + √β_t ε
    ///
    /// `t` is the index of the step being taken (0 turns x_0 into x_1).
    public func qStep(_ xPrev: Tensor, t: [Int], noise: Tensor) -> Tensor {
        checkTimesteps(t, batch: xPrev.shape[0])
        let keep = GaussianDiffusion.extract(schedule.alphas.sqrt(), t, xPrev.shape)  // √(1 − β_t) [B, 1, ...]
        let add = GaussianDiffusion.extract(schedule.betas.sqrt(), t, xPrev.shape)    // √β_t      [B, 1, ...]
        return keep * xPrev + add * noise
    }

    /// Runs the Markov chain from x_0 one step at a time up to index `t` (t + 1 steps, the
    /// same t for the whole batch): the slow road to the same distribution as `qSample`.
    public func qSampleByChain(_ x0: Tensor, t: Int, using rng: inout RandomGenerator) -> Tensor {
        precondition(t >= 0 && t < timesteps, "timestep \(t) out of range 0..<\(timesteps)")
        var x = x0
        let b = x0.shape[0]
        for step in 0...t {
            x = qStep(x, t: Array(repeating: step, count: b), noise: Tensor.randn(x0.shape, using: &rng))
        }
        return x
    }

    // MARK: - The forward-process posterior

    /// Mean and variance of the forward-process posterior (DDPM Eq. 6–7):
    ///
    ///     q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I)
    ///     μ̃_t = β_t √ᾱ_{t−1} / (1 − ᾱ_t) · x_0 + (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t) · x_t
    ///     β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)
    ///
    /// Returns the mean [B, ...], and the variance and its clipped log as [B, 1, ...].
    public func qPosteriorMeanVariance(x0: Tensor, xt: Tensor, t: [Int])
        -> (mean: Tensor, variance: Tensor, logVariance: Tensor) {
        checkTimesteps(t, batch: x0.shape[0])
        precondition(x0.shape == xt.shape, "qPosteriorMeanVariance: x0 \(x0.shape) and xt \(xt.shape) differ")
        let c1 = GaussianDiffusion.extract(schedule.posteriorMeanCoef1, t, xt.shape)          // [B, 1, ...]
        let c2 = GaussianDiffusion.extract(schedule.posteriorMeanCoef2, t, xt.shape)          // [B, 1, ...]
        let mean = c1 * x0 + c2 * xt                                                            // [B, ...]
        let variance = GaussianDiffusion.extract(schedule.posteriorVariance, t, xt.shape)     // [B, 1, ...]
        let logVariance = GaussianDiffusion.extract(schedule.posteriorLogVarianceClipped, t, xt.shape)
        return (mean, variance, logVariance)
    }
}
