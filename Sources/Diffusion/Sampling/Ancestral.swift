import Foundation
import TinyTensor

/// The variance σ_t² of the reverse step (DDPM §3.2: "both choices had similar results").
public enum ReverseVariance: String, CaseIterable, Codable, Sendable {
    /// σ_t² = β_t, optimal for x_0 ~ N(0, I) ("fixed large").
    case beta
    /// σ_t² = β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), optimal for a single point x_0 ("fixed small";
    /// the 2D tutorial's and the Annotated Diffusion's choice).
    case posterior
}

extension GaussianDiffusion {
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

    // MARK: - Respaced DDPM: Nichol & Dhariwal (2021), Section 4

    /// Ancestral (DDPM) sampling on a sub-sequence τ: the chain with ᾱ only at τ is a DDPM of its
    /// own, with β'_i = 1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}}, and each step uses its posterior
    ///
    ///     μ̃ = √ᾱ_prev β'/(1 − ᾱ_t) · x̂_0 + √(1 − β') (1 − ᾱ_prev)/(1 − ᾱ_t) · x_t,   σ² = β' (1 − ᾱ_prev)/(1 − ᾱ_t)
    ///
    /// (DDPM Eq. 7 on the respaced chain; the network still sees the original index τ_i). It is
    /// DDIM with η = 1 written through the posterior; the tests hold the two together.
    public func respacedDDPMStep(_ model: NoisePredictor, x: Tensor, t: Int, tPrev: Int, clip: Bool = false,
                                 using rng: inout RandomGenerator) -> Tensor {
        noGrad {
            let (x0, _) = predictStartAndNoise(model, x: x, t: t, clip: clip)
            let ab = alphaBar(t), abPrev = alphaBar(tPrev)
            let beta = 1 - ab / abPrev
            let c0 = abPrev.squareRoot() * beta / (1 - ab)
            let ct = (1 - beta).squareRoot() * (1 - abPrev) / (1 - ab)
            let variance = beta * (1 - abPrev) / (1 - ab)
            var out = x0 * Float(c0) + x * Float(ct)                              // μ̃  [B, ...]
            if variance > 0 { out = out + Tensor.randn(x.shape, using: &rng) * Float(variance.squareRoot()) }
            return out
        }
    }
}

/// Algorithm 2 of DDPM: every step T − 1, …, 0 with `pSample`.
///
///     x_T ~ N(0, I);  for t = T … 1:  x_{t−1} = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ(x_t, t)) + σ_t z
public struct DDPMSampler: Sampler {
    public let diffusion: GaussianDiffusion
    public let variance: ReverseVariance
    public let timesteps: [Int]

    public init(_ diffusion: GaussianDiffusion, variance: ReverseVariance = .posterior) {
        self.diffusion = diffusion
        self.variance = variance
        timesteps = Array((0..<diffusion.timesteps).reversed())
    }

    public func step(_ model: NoisePredictor, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        diffusion.pSample(model, x: x, t: timesteps[i], variance: variance, using: &rng)
    }
}

/// Ancestral sampling on a sub-sequence of the steps (`respacedDDPMStep`), descending; the last
/// step goes to the clean end.
public struct RespacedDDPMSampler: Sampler {
    public let diffusion: GaussianDiffusion
    public let timesteps: [Int]
    public let clip: Bool

    public init(_ diffusion: GaussianDiffusion, steps: [Int], clip: Bool = false) {
        precondition(!steps.isEmpty && zip(steps, steps.dropFirst()).allSatisfy { $0 > $1 },
                     "RespacedDDPMSampler: steps must be strictly decreasing")
        self.diffusion = diffusion
        timesteps = steps
        self.clip = clip
    }

    public func step(_ model: NoisePredictor, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        let tPrev = i + 1 < timesteps.count ? timesteps[i + 1] : -1
        return diffusion.respacedDDPMStep(model, x: x, t: timesteps[i], tPrev: tPrev, clip: clip, using: &rng)
    }
}
