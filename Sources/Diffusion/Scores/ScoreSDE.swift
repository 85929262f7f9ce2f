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
    /// Heun's method (second order; Karras et al. 2022, Algorithm 1, take it in σ, here it is in τ):
    /// the Euler step as a predictor, x_E = x − Δτ f(x, τ), then the slope again at its end and
    /// the step taken with the average of the two (the trapezoid rule),
    /// x ← x − ½Δτ [f(x, τ) + f(x_E, τ − Δτ)]: two passes per step, error O(Δτ²) against Euler's O(Δτ).
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

    /// One per Euler step or two per Heun step, plus one for the final x̂_0.
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
/// VP SDE, with the Langevin corrector of Algorithm 5): after each predictor step to the next
/// noise level, `correctorSteps` Langevin steps at that level with the score −ε_θ/√(1 − ᾱ)
/// (the corrector), their size set by the "signal-to-noise ratio" r (`snr`):
///
///     g = ∇ log q_s(x) ≈ −ε_θ(x, s)/√(1 − ᾱ_s),  z ~ N(0, I),  ε = 2 α_s (r ‖z‖ / ‖g‖)²
///     x ← x + ε g + √(2ε) z
///
/// r is named for what it fixes: the step's drift against the noise it adds,
/// ε‖g‖ / (√(2ε)‖z‖) = r √α_s ≈ r (exactly r for the VE SDE, where α = 1). On a Gaussian of
/// variance v, where ‖g‖ ≈ ‖z‖/√v, the step is ε ≈ 2 r² v: a small fraction (5 % for r = 0.16)
/// of the level's variance.
///
/// How this differs from the paper (and from its code, score_sde's `LangevinCorrector` and
/// `get_pc_sampler`):
/// - the predictor is DDPM's ancestral step (Algorithm 2 of DDPM, `pSample`, variance β̃_t by
///   default), not Algorithm 3's reverse-diffusion step x' = (2 − √(1 − β)) x + β s_θ + √β z;
///   with `steps` (a sub-sequence of the grid) it is the respaced ancestral step
///   (`respacedDDPMStep`, Nichol & Dhariwal 2021);
/// - ‖·‖ is the per-sample L2 norm averaged over the batch, as in the code (the paper writes
///   ‖z‖₂/‖g‖₂ of one sample), so one ε serves the whole batch;
/// - α_s = 1 − β_s of the level s being corrected (Algorithm 5's α_i); on a respaced grid the
///   respaced chain's α' = ᾱ_s / ᾱ_{s'}, s' the next grid level below s (as the code's α of an
///   SDE discretised with N steps);
/// - the order is the paper's (predictor, then corrector at the new level): no corrector at x_T,
///   none after the last step to x_0. The code runs the corrector first, at the same level.
/// Network passes: N predictor steps + `correctorSteps` × (N − 1).
public struct PredictorCorrectorSampler: Sampler {
    public let diffusion: GaussianDiffusion
    public let correctorSteps: Int
    public let snr: Double
    public let variance: ReverseVariance
    /// The levels the predictor visits, descending (default: every step index T − 1, …, 0).
    public let timesteps: [Int]

    /// - Parameter steps: a strictly decreasing sub-sequence of 0..<T for fewer predictor steps
    ///   (respaced ancestral steps, posterior variance only); nil for all T.
    public init(_ diffusion: GaussianDiffusion, steps: [Int]? = nil, correctorSteps: Int = 1, snr: Double = 0.16,
                variance: ReverseVariance = .posterior) {
        precondition(correctorSteps >= 0 && snr > 0, "PredictorCorrectorSampler: needs correctorSteps >= 0 and snr > 0")
        let grid = steps ?? Array((0..<diffusion.timesteps).reversed())
        precondition(!grid.isEmpty && zip(grid, grid.dropFirst()).allSatisfy { $0 > $1 }
                     && grid.first! < diffusion.timesteps && grid.last! >= 0,
                     "PredictorCorrectorSampler: steps must be strictly decreasing, in 0..<\(diffusion.timesteps)")
        precondition(steps == nil || variance == .posterior,
                     "PredictorCorrectorSampler: respaced steps use the posterior variance")
        self.diffusion = diffusion
        self.correctorSteps = correctorSteps
        self.snr = snr
        self.variance = variance
        timesteps = grid
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

    /// The level after step index i (−1: the clean x_0).
    func level(after i: Int) -> Int { i + 1 < timesteps.count ? timesteps[i + 1] : -1 }

    public func step(_ model: NoisePredictor, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor {
        let t = timesteps[i], s = level(after: i)
        var x = s == t - 1                                                            // predictor: x_s  [B, ...]
            ? diffusion.pSample(model, x: x, t: t, variance: variance, using: &rng)
            : diffusion.respacedDDPMStep(model, x: x, t: t, tPrev: s, using: &rng)
        guard s >= 0 else { return x }
        let below = level(after: i + 1), arrays = diffusion.schedule.doubleArrays
        let alpha = below == s - 1 ? arrays.alphas[s] : diffusion.alphaBar(s) / diffusion.alphaBar(below)   // α_s
        for _ in 0..<correctorSteps {                                                 // corrector at level s
            let g = diffusion.score(model, x: x, t: s)                                // [B, ...]
            let z = Tensor.randn(x.shape, using: &rng)                                // [B, ...]
            let ratio = snr * meanNorm(z) / Swift.max(meanNorm(g), 1e-12)
            let epsilon = 2 * alpha * ratio * ratio                                   // ε = 2α (r‖z‖/‖g‖)²
            x = noGrad { x + Float(epsilon) * g + Float((2 * epsilon).squareRoot()) * z }
        }
        return x
    }
}
