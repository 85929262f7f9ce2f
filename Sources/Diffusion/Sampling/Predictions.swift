import Foundation
import TinyTensor

/// A noise predictor ε_θ(x_t, t): noisy data [B, ...] and one timestep index per sample → [B, ...].
public typealias NoisePredictor = (Tensor, [Int]) -> Tensor

/// What every sampler makes of the network's output: its guess of the clean data x̂_0 and of
/// the noise ε, the two read off the same x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (DDPM Eq. 4).
extension GaussianDiffusion {
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

    /// ᾱ at index t, or 1 for t < 0 (the clean end of the chain, "set_alpha_to_one").
    func alphaBar(_ t: Int) -> Double { t < 0 ? 1 : schedule.doubleArrays.alphasCumprod[t] }

    /// The network's guess of x_0 and the noise, with x̂_0 optionally clipped to [−1, 1]; after a
    /// clip, ε is re-derived from the clipped x̂_0 so the two stay consistent (lucidrains'
    /// `predict_noise_from_start`):  ε = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t).
    ///
    /// The one place a sampler turns ε_θ into (x̂_0, ε): DDIM, its inversion, respaced DDPM and
    /// the probability-flow ODE's last step all call it.
    public func predictStartAndNoise(_ model: NoisePredictor, x: Tensor, t: Int, clip: Bool) -> (x0: Tensor, eps: Tensor) {
        let ts = Array(repeating: t, count: x.shape[0])
        var eps = model(x, ts)                                                   // [B, ...]
        var x0 = predictStartFromNoise(x, t: ts, noise: eps)                     // [B, ...]
        if clip {
            x0 = x0.clamp(min: -1, max: 1)
            let ab = Float(alphaBar(t))
            eps = (x - x0 * ab.squareRoot()) / (1 - ab).squareRoot()
        }
        return (x0, eps)
    }
}
