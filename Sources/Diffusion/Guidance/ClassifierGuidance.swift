import Foundation
import TinyTensor

/// Classifier guidance (Dhariwal & Nichol 2021): a classifier of noisy images p_φ(y | x_t, t)
/// steers an unconditional model towards the class y. By Bayes,
///
///     ∇ log p(x_t | y) = ∇ log p(x_t) + ∇ log p_φ(y | x_t, t)
///
/// so the score of the class-conditional distribution is the unconditional score plus the
/// classifier's gradient; a scale s > 1 sharpens the classifier, sampling p(x | y) p(y | x)^(s−1).
extension GaussianDiffusion {
    /// One reverse step with classifier guidance (Dhariwal & Nichol 2021, Algorithm 1): the
    /// mean of Algorithm 2 moved along the classifier's gradient, scaled by the step's variance:
    ///
    ///     x_{t−1} ~ N(μ_θ(x_t, t) + s σ_t² ∇_{x_t} log p_φ(y | x_t, t),  σ_t² I)
    ///
    /// with μ_θ = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε_θ) and σ_t² = β̃_t (0 at the last step, so the
    /// last step is unguided). s = 0 is `pSample`, to the bit and with the same random numbers.
    public func classifierGuidedPSample(_ model: @escaping NoisePredictor, gradient: @escaping (Tensor, [Int]) -> Tensor,
                                        scale s: Double, x: Tensor, t: Int, using rng: inout RandomGenerator) -> Tensor {
        precondition(t >= 0 && t < timesteps, "classifierGuidedPSample: timestep \(t) out of range 0..<\(timesteps)")
        let f = schedule                                                             // the Float arrays pSample uses
        guard s != 0, t > 0 else { return pSample(model, x: x, t: t, using: &rng) }  // σ_0 = 0: nothing to guide
        // μ_θ = 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε), so moving μ_θ by s σ_t² g is moving ε by
        // −s σ_t² √α_t √(1 − ᾱ_t)/β_t · g: Algorithm 2 with the shifted noise prediction.
        let shift = Float(s) * f.posteriorVariance.data[t] * f.alphas.data[t].squareRoot()
            * f.sqrtOneMinusAlphasCumprod.data[t] / f.betas.data[t]
        let guided: NoisePredictor = { x, steps in noGrad { model(x, steps) - shift * gradient(x, steps) } }
        return pSample(guided, x: x, t: t, using: &rng)
    }

    /// Classifier guidance for deterministic samplers (Dhariwal & Nichol 2021, Algorithm 2):
    /// the score of p(x_t | y) = p(x_t) p(y | x_t) / p(y) is the score of x_t plus the
    /// classifier's gradient, and since ε_θ = −√(1 − ᾱ_t) ∇ log p(x_t) (Chapter 9), guiding the
    /// noise prediction is
    ///
    ///     ε̂(x_t, t) = ε_θ(x_t, t) − s √(1 − ᾱ_t) ∇_{x_t} log p_φ(y | x_t, t)
    ///
    /// with a scale s (s = 1: the Bayes posterior; larger: sharper). Use it with `DDIMSampler`.
    public func classifierGuidedNoisePredictor(_ model: @escaping NoisePredictor,
                                               gradient: @escaping (Tensor, [Int]) -> Tensor,
                                               scale s: Double) -> NoisePredictor {
        let sigmas = schedule.doubleArrays.sqrtOneMinusAlphasCumprod
        return { x, t in
            let epsilon = noGrad { model(x, t) }                                            // [B, ...]
            guard s != 0 else { return epsilon }
            let g = gradient(x, t)                                                          // [B, ...]
            let perImage = Tensor(t.map { Float(s * sigmas[$0]) }, shape: [t.count] + Array(repeating: 1, count: x.rank - 1))
            return noGrad { epsilon - perImage * g }                                       // ε̂  [B, ...]
        }
    }
}
