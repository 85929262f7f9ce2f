import Foundation
import TinyTensor

/// DDPM read as a score model (Song et al. 2021, "Score-Based Generative Modeling through
/// Stochastic Differential Equations"): the same trained ε_θ, two more samplers.
extension GaussianDiffusion {
    /// The score of the noised data q(x_t) from a noise predictor:
    ///
    ///     ∇_x log q(x_t) ≈ −ε_θ(x_t, t) / √(1 − ᾱ_t)
    ///
    /// The best ε-predictor in the mean-squared sense is E[ε | x_t], and Tweedie's formula
    /// says E[ε | x_t] = −√(1 − ᾱ_t) ∇ log q(x_t): DDPM's training regresses the score.
    public func score(_ model: NoisePredictor, x: Tensor, t: Int) -> Tensor {
        precondition(t >= 0 && t < timesteps, "score: timestep \(t) out of range 0..<\(timesteps)")
        return noGrad {
            let epsilon = model(x, Array(repeating: t, count: x.shape[0]))          // [B, ...]
            return epsilon * Float(-1 / schedule.doubleArrays.sqrtOneMinusAlphasCumprod[t])
        }
    }

    /// How `probabilityFlowSample` steps along the ODE.
    public enum ODESolver: String, CaseIterable {
        /// x ← x − Δτ f(x, τ): one network pass per step.
        case euler
        /// Euler, then the slope again at the end point and the average of the two
        /// (Heun's method, second order): two passes per step.
        case heun
    }

    /// Samples by integrating the probability-flow ODE (Song et al. 2021, Eq. 13) of the
    /// variance-preserving SDE that DDPM discretises, backwards from τ = 1 to τ = 1/T:
    ///
    ///     dx/dτ = −½ β(τ) [x + ∇ log q_τ(x)] = −½ β(τ) [x − ε_θ(x, τ) / √(1 − ᾱ(τ))]
    ///
    /// Time τ = (t + 1)/T for step index t, and β(τ_t) = −T log(1 − β_t), which makes
    /// exp(−∫β) equal DDPM's ᾱ_t at every grid point. No noise is added: the same x_T always
    /// gives the same sample, and the points keep the distribution of the SDE's samples.
    /// The last state (τ = 1/T, noise √(1 − ᾱ_0) ≈ 0.01–0.02) is denoised with x̂_0.
    ///
    /// - Parameters:
    ///   - x: x_T [B, ...], usually N(0, I).
    ///   - stride: grid steps per ODE step (T/stride steps; 1 = every step index).
    public func probabilityFlowSample(_ model: NoisePredictor, from x: Tensor, stride: Int = 1,
                                      solver: ODESolver = .heun) -> Tensor {
        precondition(stride >= 1 && stride < timesteps, "probabilityFlowSample: stride must be in 1..<\(timesteps)")
        let s = schedule.doubleArrays, T = Double(timesteps)
        /// f(x, t) = dx/dτ at step index t.
        func slope(_ x: Tensor, _ t: Int) -> Tensor {
            let beta = -T * Foundation.log(1 - s.betas[t])                       // β(τ_t)
            let epsilon = model(x, Array(repeating: t, count: x.shape[0]))       // [B, ...]
            return Float(-0.5 * beta) * (x - Float(1 / s.sqrtOneMinusAlphasCumprod[t]) * epsilon)
        }
        var grid = Array(Swift.stride(from: timesteps - 1, through: 0, by: -stride))   // T−1, T−1−k, …
        if grid.last != 0 { grid.append(0) }
        return noGrad {
            var x = x                                                                // [B, ...]
            for (t, next) in zip(grid, grid.dropFirst()) {
                let dTau = Float(Double(t - next) / T)
                let f1 = slope(x, t)
                let euler = x - dTau * f1                                            // [B, ...]
                x = solver == .euler ? euler : x - (0.5 * dTau) * (f1 + slope(euler, next))
            }
            let epsilon = model(x, Array(repeating: 0, count: x.shape[0]))
            return predictStartFromNoise(x, t: Array(repeating: 0, count: x.shape[0]), noise: epsilon)   // x̂_0
        }
    }

    /// Predictor–corrector sampling (Song et al. 2021, Algorithms 2 and 5): after each
    /// ancestral step to x_{t−1} (Algorithm 2 of DDPM, the predictor), a few Langevin steps at
    /// that noise level with the score −ε_θ/√(1 − ᾱ) (the corrector), their size set by a
    /// signal-to-noise ratio r:
    ///
    ///     g = ∇ log q_{t−1}(x),  z ~ N(0, I),  ε = 2 α_{t−1} (r ‖z‖ / ‖g‖)²
    ///     x ← x + ε g + √(2ε) z
    ///
    /// (‖·‖: the per-sample norms averaged over the batch, as in the paper's code; α = 1 − β.)
    /// The corrector pulls points that the coarse predictor left off the data's manifold
    /// back towards regions of high density.
    public func predictorCorrectorSample(_ model: NoisePredictor, from x: Tensor, correctorSteps: Int = 1,
                                         snr: Double = 0.16, variance: ReverseVariance = .posterior,
                                         using rng: inout RandomGenerator) -> Tensor {
        precondition(correctorSteps >= 0 && snr > 0, "predictorCorrectorSample: needs correctorSteps >= 0 and snr > 0")
        let s = schedule.doubleArrays
        var x = x                                                                     // [B, ...]
        let b = x.shape[0], perSample = x.count / Swift.max(b, 1)
        func meanNorm(_ v: Tensor) -> Double {
            var total = 0.0
            for i in 0..<b {
                var sum = 0.0
                for j in 0..<perSample { let e = Double(v.data[i * perSample + j]); sum += e * e }
                total += sum.squareRoot()
            }
            return total / Double(Swift.max(b, 1))
        }
        for t in Swift.stride(from: timesteps - 1, through: 0, by: -1) {
            x = pSample(model, x: x, t: t, variance: variance, using: &rng)         // predictor: x_{t−1}
            guard t > 0 else { break }
            for _ in 0..<correctorSteps {                                             // corrector at level t − 1
                let g = score(model, x: x, t: t - 1)                                  // [B, ...]
                let z = Tensor.randn(x.shape, using: &rng)                            // [B, ...]
                let ratio = snr * meanNorm(z) / Swift.max(meanNorm(g), 1e-12)
                let epsilon = 2 * s.alphas[t - 1] * ratio * ratio
                x = noGrad { x + Float(epsilon) * g + Float((2 * epsilon).squareRoot()) * z }
            }
        }
        return x
    }
}
