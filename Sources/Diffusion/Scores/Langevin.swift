import Foundation
import TinyTensor

/// Sampling with nothing but a score ∇_x log p(x): Langevin dynamics (Song & Ermon 2019).

/// Plain Langevin dynamics (Song & Ermon 2019, Eq. 4), `steps` steps of
///
///     x_{k+1} = x_k + (α/2) ∇_x log p(x_k) + √α z_k,        z_k ~ N(0, I)
///
/// For a small step α and many steps the points are distributed as p, *if* the chain can
/// travel between all of p's modes. It cannot when the modes are separated by regions of
/// almost no density: there the score only points to the nearest mode, so each point stays
/// with the mode it first fell into and the modes' weights come from where the points
/// started, not from p (their Section 3.2).
public struct LangevinSampler: Sampler {
    /// x [N, D] ↦ ∇ log p(x) [N, D].
    public typealias Model = (Tensor) -> Tensor
    public let stepSize: Float
    /// 0, 1, …, steps − 1.
    public let timesteps: [Int]

    public init(stepSize alpha: Float, steps: Int) {
        precondition(alpha > 0 && steps >= 0, "LangevinSampler: needs a positive step size and steps >= 0")
        stepSize = alpha
        timesteps = Array(0..<steps)
    }

    public func step(_ score: Model, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        let z = Tensor.randn(x.shape, using: &rng)                            // [N, D]
        return noGrad { x + (stepSize / 2) * score(x) + stepSize.squareRoot() * z }   // [N, D]
    }
}

/// σ_1 > σ_2 > … > σ_L, a geometric sequence (Song & Ermon 2019): σ_i = σ_1 (σ_L/σ_1)^((i−1)/(L−1)).
public func geometricNoiseLevels(first: Double, last: Double, count: Int) -> [Double] {
    precondition(first > last && last > 0 && count >= 2, "geometricNoiseLevels: needs first > last > 0 and count >= 2")
    return (0..<count).map { first * Foundation.pow(last / first, Double($0) / Double(count - 1)) }
}

/// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1): Langevin at each noise level
/// σ_1 > … > σ_L in turn, `stepsPerLevel` steps each, with the step size shrinking as σ²:
///
///     α_i = ε σ_i² / σ_L²
///     x ← x + (α_i/2) s(x, σ_i) + √α_i z                   (stepsPerLevel times per level)
///
/// At σ_1 (about the data's diameter) p_σ1 is one broad blob: points move freely between
/// modes and settle in proportion to their weights. Each smaller σ sharpens the picture
/// while the points keep their mode. With `denoiseAtEnd`, one last step without noise,
/// x ← x + σ_L² s(x, σ_L) (Tweedie's formula: the mean of the clean point given x), removes
/// the σ_L of noise the last level leaves (Song & Ermon 2020, Jolicoeur-Martineau et al. 2021).
/// `timesteps` holds each step's level index (the Tweedie step: L, one past the last level).
public struct AnnealedLangevinSampler: Sampler {
    /// (x [N, D], σ) ↦ s(x, σ) ≈ ∇ log p_σ(x) [N, D].
    public typealias Model = (Tensor, Double) -> Tensor
    public let sigmas: [Double]
    public let epsilon: Double
    public let timesteps: [Int]

    public init(sigmas: [Double], stepsPerLevel: Int, epsilon: Double, denoiseAtEnd: Bool = true) {
        precondition(!sigmas.isEmpty && epsilon > 0 && stepsPerLevel >= 1,
                     "AnnealedLangevinSampler: needs noise levels, epsilon > 0 and at least one step per level")
        self.sigmas = sigmas
        self.epsilon = epsilon
        timesteps = sigmas.indices.flatMap { Array(repeating: $0, count: stepsPerLevel) }
            + (denoiseAtEnd ? [sigmas.count] : [])
    }

    public func step(_ score: Model, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        let sigmaL = sigmas.last!
        guard timesteps[i] < sigmas.count else {                             // Tweedie: x + σ_L² s(x, σ_L)
            return noGrad { x + Float(sigmaL * sigmaL) * score(x, sigmaL) }
        }
        let sigma = sigmas[timesteps[i]]
        let alpha = epsilon * sigma * sigma / (sigmaL * sigmaL)               // α_i = ε σ_i² / σ_L²
        let z = Tensor.randn(x.shape, using: &rng)                            // [N, D]
        return noGrad { x + Float(alpha / 2) * score(x, sigma) + Float(alpha.squareRoot()) * z }   // [N, D]
    }
}
