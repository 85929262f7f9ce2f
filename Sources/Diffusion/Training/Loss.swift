import Foundation
import TinyTensor

extension GaussianDiffusion {
    /// The simplified training objective of DDPM (Algorithm 1, Eq. 14):
    ///
    ///     L_simple = E_{t, x_0, ε} ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²
    ///
    /// for a batch x0 [B, ...] with its timesteps t (B entries, uniform over 0..<T) and noise ε
    /// (the shape of x0). `loss` is MSE by default (L1 or Huber as alternatives). Chapters 4 and
    /// 6 write these three lines out in their training loops.
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
}
