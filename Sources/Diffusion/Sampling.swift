import Foundation
import TinyTensor

/// A noise predictor ε_θ(x_t, t): noisy data [B, ...] and one timestep index per sample → [B, ...].
public typealias NoisePredictor = (Tensor, [Int]) -> Tensor

/// The variance σ_t² of the reverse step (DDPM §3.2: "both choices had similar results").
public enum ReverseVariance: String, CaseIterable {
    /// σ_t² = β_t, optimal for x_0 ~ N(0, I) ("fixed large").
    case beta
    /// σ_t² = β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), optimal for a single point x_0 ("fixed small";
    /// the 2D tutorial's and the Annotated Diffusion's choice).
    case posterior
}

extension GaussianDiffusion {
    // MARK: - Training: Algorithm 1

    /// The simplified training objective of DDPM (Algorithm 1, Eq. 14):
    ///
    ///     L_simple = E_{t, x_0, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²
    ///
    /// for a batch x0 [B, ...] with its timesteps t (B entries, uniform over 0..<T) and noise ε
    /// (the shape of x0). `loss` is MSE by default (L1 or Huber as alternatives).
    public func pLosses(_ model: NoisePredictor, x0: Tensor, t: [Int], noise: Tensor,
                        loss: RegressionLoss = .mse) -> Tensor {
        let xt = qSample(x0, t: t, noise: noise)            // [B, ...]
        let predicted = model(xt, t)                        // [B, ...]
        return loss(predicted, noise)                       // []
    }

    /// Same, drawing t ~ U{0, …, T − 1} and ε ~ N(0, I) from `rng`.
    public func pLosses(_ model: NoisePredictor, x0: Tensor, loss: RegressionLoss = .mse,
                        using rng: inout RandomGenerator) -> Tensor {
        let t = rng.integers(count: x0.shape[0], below: timesteps)
        let noise = Tensor.randn(x0.shape, using: &rng)
        return pLosses(model, x0: x0, t: t, noise: noise, loss: loss)
    }

    // MARK: - Sampling: Algorithm 2

    /// One step of ancestral sampling (Algorithm 2, line 4), the whole batch at step index t
    /// (the paper's t + 1):
    ///
    ///     x_{t−1} = 1/√α_t · (x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t)) + σ_t z,   z ~ N(0, I)
    ///
    /// with z = 0 at the last step (index 0). This equals the posterior-mean form of the 2D
    /// tutorial, μ̃_t(x̂_0, x_t) with x̂_0 = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε_θ, without clipping x̂_0
    /// (the toy data lives in ±4). Runs under `noGrad`.
    public func pSample(_ model: NoisePredictor, x: Tensor, t: Int, variance: ReverseVariance = .posterior,
                        using rng: inout RandomGenerator) -> Tensor {
        precondition(t >= 0 && t < timesteps, "pSample: timestep \(t) out of range 0..<\(timesteps)")
        return noGrad {
            let epsilon = model(x, Array(repeating: t, count: x.shape[0]))     // [B, ...]
            let s = schedule
            let scale = s.sqrtRecipAlphas.data[t]                              // 1/√α_t
            let noiseCoef = s.betas.data[t] / s.sqrtOneMinusAlphasCumprod.data[t]  // β_t/√(1 − ᾱ_t)
            let sigma: Float = t == 0 ? 0
                : (variance == .beta ? s.betas.data[t] : s.posteriorVariance.data[t]).squareRoot()
            let z = sigma > 0 ? rng.normal(count: x.count) : [Float](repeating: 0, count: x.count)
            var out = [Float](repeating: 0, count: x.count)                    // [B, ...]
            x.data.withUnsafeBufferPointer { xp in epsilon.data.withUnsafeBufferPointer { ep in
                out.withUnsafeMutableBufferPointer { op in
                    for i in 0..<op.count { op[i] = scale * (xp[i] - noiseCoef * ep[i]) + sigma * z[i] }
                }
            } }
            return Tensor(out, shape: x.shape)
        }
    }

    /// Algorithm 2: x_T ~ N(0, I), then `pSample` for t = T … 1.
    ///
    /// - Parameters:
    ///   - shape: [B, ...] of the samples.
    ///   - keepTrajectory: also return x_T, x_{T−1}, …, x_0 (T + 1 tensors) for animations.
    /// - Returns: x_0, and the trajectory (empty unless asked for).
    ///   - onStep: called after each step with the step index t just taken (T − 1 … 0) and
    ///     x_t's successor x_{t−1} (for progress lines and animation frames).
    public func pSampleLoop(_ model: NoisePredictor, shape: [Int], variance: ReverseVariance = .posterior,
                            keepTrajectory: Bool = false, using rng: inout RandomGenerator,
                            onStep: ((Int, Tensor) -> Void)? = nil)
        -> (samples: Tensor, trajectory: [Tensor]) {
        var x = Tensor.randn(shape, using: &rng)                              // x_T  [B, ...]
        var trajectory = keepTrajectory ? [x] : []
        for t in stride(from: timesteps - 1, through: 0, by: -1) {
            x = pSample(model, x: x, t: t, variance: variance, using: &rng)
            if keepTrajectory { trajectory.append(x) }
            onStep?(t, x)
        }
        return (x, trajectory)
    }

    /// The network's guess of the clean image from x_t and its noise prediction
    /// (DDPM Eq. 4 solved for x_0; lucidrains' `predict_start_from_noise`):
    ///
    ///     x̂_0 = √(1/ᾱ_t) · x_t − √(1/ᾱ_t − 1) · ε_θ(x_t, t)
    public func predictStartFromNoise(_ xt: Tensor, t: [Int], noise: Tensor) -> Tensor {
        checkTimesteps(t, batch: xt.shape[0])
        let a = GaussianDiffusion.extract(schedule.sqrtRecipAlphasCumprod, t, xt.shape)    // [B, 1, ...]
        let b = GaussianDiffusion.extract(schedule.sqrtRecipm1AlphasCumprod, t, xt.shape)  // [B, 1, ...]
        return a * xt - b * noise                                                           // [B, ...]
    }
}
