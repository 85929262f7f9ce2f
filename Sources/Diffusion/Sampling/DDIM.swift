import Foundation
import TinyTensor

extension GaussianDiffusion {
    // MARK: - DDIM: Song, Meng & Ermon (2020)

    /// One DDIM step from index t to index tPrev (< t; −1 means the clean end), DDIM Eq. 12:
    ///
    ///     x_prev = √ᾱ_prev · x̂_0  +  √(1 − ᾱ_prev − σ²) · ε_θ(x_t, t)  +  σ z
    ///     σ = η · √((1 − ᾱ_prev)/(1 − ᾱ_t)) · √(1 − ᾱ_t/ᾱ_prev)                        (Eq. 16)
    ///
    /// η = 0 is deterministic (an ODE step, "DDIM"); η = 1 with tPrev = t − 1 is DDPM's ancestral
    /// step with the posterior variance β̃_t (not with σ² = β_t). The same trained ε_θ serves both.
    /// z is drawn from `rng` only when σ > 0.
    public func ddimStep(_ model: NoisePredictor, x: Tensor, t: Int, tPrev: Int, eta: Double = 0,
                         clip: Bool = false, using rng: inout RandomGenerator) -> Tensor {
        precondition(t >= 0 && t < timesteps && tPrev < t && tPrev >= -1, "ddimStep: need 0 ≤ t < T and −1 ≤ tPrev < t")
        return noGrad {
            let (x0, eps) = predictStartAndNoise(model, x: x, t: t, clip: clip)   // [B, ...] each
            let ab = alphaBar(t), abPrev = alphaBar(tPrev)
            let sigma = eta * ((1 - abPrev) / (1 - ab)).squareRoot() * (1 - ab / abPrev).squareRoot()
            let direction = max(0, 1 - abPrev - sigma * sigma).squareRoot()       // "direction pointing to x_t"
            var out = x0 * Float(abPrev.squareRoot()) + eps * Float(direction)     // [B, ...]
            if sigma > 0 { out = out + Tensor.randn(x.shape, using: &rng) * Float(sigma) }
            return out
        }
    }

    /// One step of DDIM inversion: the deterministic (η = 0) step run the other way, from index t
    /// up to tNext > t:
    ///
    ///     x_next = √ᾱ_next · x̂_0(x_t) + √(1 − ᾱ_next) · ε_θ(x_t, t)
    public func ddimInvertStep(_ model: NoisePredictor, x: Tensor, t: Int, tNext: Int) -> Tensor {
        precondition(t >= 0 && tNext > t && tNext < timesteps, "ddimInvertStep: need 0 ≤ t < tNext < T")
        return noGrad {
            let (guess, eps) = predictStartAndNoise(model, x: x, t: t, clip: false)
            let abNext = alphaBar(tNext)
            return guess * Float(abNext.squareRoot()) + eps * Float((1 - abNext).squareRoot())
        }
    }
}

/// DDIM sampling along `steps` (descending), then a last step to the clean end; `eta` = 0 is
/// the deterministic sampler, `clip` clips x̂_0 to [−1, 1] at every step.
public struct DDIMSampler: Sampler {
    public let diffusion: GaussianDiffusion
    public let timesteps: [Int]
    public let eta: Double
    public let clip: Bool

    public init(_ diffusion: GaussianDiffusion, steps: [Int], eta: Double = 0, clip: Bool = false) {
        precondition(!steps.isEmpty && zip(steps, steps.dropFirst()).allSatisfy { $0 > $1 },
                     "DDIMSampler: steps must be strictly decreasing")
        self.diffusion = diffusion
        timesteps = steps
        self.eta = eta
        self.clip = clip
    }

    public func step(_ model: NoisePredictor, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        let tPrev = i + 1 < timesteps.count ? timesteps[i + 1] : -1
        return diffusion.ddimStep(model, x: x, t: timesteps[i], tPrev: tPrev, eta: eta, clip: clip, using: &rng)
    }
}

/// DDIM inversion: from a clean x_0, taken as x at the smallest of `steps` (ᾱ ≈ 1 there), up to
/// x at the largest, one `ddimInvertStep` per pair of neighbours. Sampling back from the result
/// with `DDIMSampler` (η = 0, same steps) returns close to x_0; how close measures how well the
/// few-step discretisation follows the exact probability-flow ODE (Chapter 9).
public struct DDIMInversion: Sampler {
    public let diffusion: GaussianDiffusion
    /// The steps in ascending order; the network is called at all but the last.
    public let ascending: [Int]
    public var timesteps: [Int] { Array(ascending.dropLast()) }

    public init(_ diffusion: GaussianDiffusion, steps: [Int]) {
        let up = steps.sorted()
        precondition(!up.isEmpty && Set(up).count == up.count, "DDIMInversion: steps must be distinct")
        self.diffusion = diffusion
        ascending = up
    }

    public func step(_ model: NoisePredictor, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        diffusion.ddimInvertStep(model, x: x, t: ascending[i], tNext: ascending[i + 1])
    }
}
