import Foundation
import TinyTensor

/// DDPM read as a score model (Song et al. 2021, "Score-Based Generative Modeling through
/// Stochastic Differential Equations"): the same trained ε_θ, two more samplers.
/// (Section and equation numbers below are those of the paper's ICLR 2021 version.)
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
}

/// How `ProbabilityFlowSampler` steps along the ODE.
public enum ODESolver: String, CaseIterable, Codable, Sendable {
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
/// The grid is T − 1, T − 1 − stride, …, 0; the last step, at index 0 (noise
/// √(1 − ᾱ_0) ≈ 0.01–0.02), denoises with x̂_0 instead of integrating.
public struct ProbabilityFlowSampler: Sampler {
    public let diffusion: GaussianDiffusion
    public let solver: ODESolver
    /// T − 1, T − 1 − stride, …, 0.
    public let timesteps: [Int]

    /// - Parameter stride: grid steps per ODE step (1 = every step index).
    public init(_ diffusion: GaussianDiffusion, stride: Int = 1, solver: ODESolver = .heun) {
        precondition(stride >= 1 && stride < diffusion.timesteps,
                     "ProbabilityFlowSampler: stride must be in 1..<\(diffusion.timesteps)")
        self.diffusion = diffusion
        self.solver = solver
        var grid = Array(Swift.stride(from: diffusion.timesteps - 1, through: 0, by: -stride))   // T−1, T−1−k, …
        if grid.last != 0 { grid.append(0) }
        timesteps = grid
    }

    public var networkPasses: Int { (solver == .heun ? 2 : 1) * (timesteps.count - 1) + 1 }

    /// f(x, t) = dx/dτ at step index t.
    func slope(_ model: NoisePredictor, _ x: Tensor, _ t: Int) -> Tensor {
        let s = diffusion.schedule.doubleArrays, T = Double(diffusion.timesteps)
        let beta = -T * Foundation.log(1 - s.betas[t])                           // β(τ_t)
        let epsilon = model(x, Array(repeating: t, count: x.shape[0]))           // [B, ...]
        return Float(-0.5 * beta) * (x - Float(1 / s.sqrtOneMinusAlphasCumprod[t]) * epsilon)
    }

    public func step(_ model: NoisePredictor, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        let t = timesteps[i]
        return noGrad {
            guard i + 1 < timesteps.count else {                                 // the last state: x̂_0
                let zeros = Array(repeating: 0, count: x.shape[0])
                return diffusion.predictStartFromNoise(x, t: zeros, noise: model(x, zeros))
            }
            let next = timesteps[i + 1]
            let dTau = Float(Double(t - next) / Double(diffusion.timesteps))
            let f1 = slope(model, x, t)                                          // [B, ...]
            let euler = x - dTau * f1                                            // [B, ...]
            return solver == .euler ? euler : x - (0.5 * dTau) * (f1 + slope(model, euler, next))
        }
    }
}

/// Predictor–corrector sampling (Song et al. 2021, Appendix G: Algorithm 3, PC sampling for the
/// VP SDE, with the Langevin corrector of Algorithm 5): after each ancestral step
/// to x_{t−1} (Algorithm 2 of DDPM, the predictor), a few Langevin steps at that noise level with
/// the score −ε_θ/√(1 − ᾱ) (the corrector), their size set by a signal-to-noise ratio r:
///
///     g = ∇ log q_{t−1}(x),  z ~ N(0, I),  ε = 2 α_{t−1} (r ‖z‖ / ‖g‖)²
///     x ← x + ε g + √(2ε) z
///
/// (‖·‖: the per-sample norms averaged over the batch, as in the paper's code; α = 1 − β.)
/// The corrector pulls points that the coarse predictor left off the data's manifold
/// back towards regions of high density.
public struct PredictorCorrectorSampler: Sampler {
    public let diffusion: GaussianDiffusion
    public let correctorSteps: Int
    public let snr: Double
    public let variance: ReverseVariance
    public let timesteps: [Int]

    public init(_ diffusion: GaussianDiffusion, correctorSteps: Int = 1, snr: Double = 0.16,
                variance: ReverseVariance = .posterior) {
        precondition(correctorSteps >= 0 && snr > 0, "PredictorCorrectorSampler: needs correctorSteps >= 0 and snr > 0")
        self.diffusion = diffusion
        self.correctorSteps = correctorSteps
        self.snr = snr
        self.variance = variance
        timesteps = Array((0..<diffusion.timesteps).reversed())
    }

    public var networkPasses: Int { timesteps.count + correctorSteps * (timesteps.count - 1) }

    /// The per-sample L2 norms of v [B, ...], averaged over the batch.
    func meanNorm(_ v: Tensor) -> Double {
        let b = v.shape[0], perSample = v.count / Swift.max(b, 1)
        var total = 0.0
        for i in 0..<b {
            var sum = 0.0
            for j in 0..<perSample { let e = Double(v.data[i * perSample + j]); sum += e * e }
            total += sum.squareRoot()
        }
        return total / Double(Swift.max(b, 1))
    }

    public func step(_ model: NoisePredictor, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        let t = timesteps[i]
        var x = diffusion.pSample(model, x: x, t: t, variance: variance, using: &rng)   // predictor: x_{t−1}  [B, ...]
        guard t > 0 else { return x }
        let alpha = diffusion.schedule.doubleArrays.alphas[t - 1]
        for _ in 0..<correctorSteps {                                                 // corrector at level t − 1
            let g = diffusion.score(model, x: x, t: t - 1)                            // [B, ...]
            let z = Tensor.randn(x.shape, using: &rng)                                // [B, ...]
            let ratio = snr * meanNorm(z) / Swift.max(meanNorm(g), 1e-12)
            let epsilon = 2 * alpha * ratio * ratio
            x = noGrad { x + Float(epsilon) * g + Float((2 * epsilon).squareRoot()) * z }
        }
        return x
    }
}
