import Foundation
import TinyTensor

/// The four variance ("beta") schedules of the tutorials.
///
/// - `linear`: the DDPM paper's choice (Ho et al. 2020, §4: "β₁ = 10⁻⁴ to β_T = 0.02").
/// - `quadratic`: a linspace of square roots, squared (InFoCusp, Annotated Diffusion).
/// - `cosine`: Nichol & Dhariwal 2021, Eq. 17, defined through ᾱ rather than β.
/// - `sigmoid`: sigmoid(linspace(−6, 6, T)) scaled to [β_start, β_end] (Annotated Diffusion,
///   TwoResUNet article).
public enum BetaSchedule: String, CaseIterable, Codable, Sendable {
    case linear, quadratic, cosine, sigmoid

    /// Parses a schedule name; an unknown name throws one sentence listing the known ones.
    public init(name: String) throws {
        guard let kind = BetaSchedule(rawValue: name.lowercased()) else {
            let known = BetaSchedule.allCases.map(\.rawValue).joined(separator: ", ")
            throw DiffusionError("unknown noise schedule '\(name)'; choose one of \(known).")
        }
        self = kind
    }
}

/// The fixed forward-process variances β_t and every array derived from them.
///
/// Index `i` of every array (0-based, as in the reference code) is the paper's t = i + 1:
/// `betas[0]` is β₁ and `alphasCumprod[T − 1]` is ᾱ_T. All arrays are computed in Double
/// and stored as Float tensors of shape [T].
///
/// Notation (DDPM paper, §2): α_t = 1 − β_t and ᾱ_t = ∏_{s ≤ t} α_s, so that
/// q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)                       (Eq. 4)
/// q(x_{t−1} | x_t, x_0) = N(μ̃_t(x_t, x_0), β̃_t I)                (Eq. 6–7)
public struct NoiseSchedule {
    /// Which schedule made the betas.
    public let kind: BetaSchedule
    /// Number of diffusion steps T.
    public let timesteps: Int
    /// β_start and β_end as used (after the 1000/T rescale, when asked for).
    public let betaStart: Double
    public let betaEnd: Double
    /// s of the cosine schedule.
    public let cosineOffset: Double

    /// β_t, the variance of the noise added at step t.                             [T]
    public let betas: Tensor
    /// α_t = 1 − β_t.                                                              [T]
    public let alphas: Tensor
    /// ᾱ_t = ∏_{s=1}^{t} α_s (cumulative product).                                 [T]
    public let alphasCumprod: Tensor
    /// ᾱ_{t−1}, with ᾱ_0 = 1 prepended (so entry 0 is exactly 1).                  [T]
    public let alphasCumprodPrev: Tensor
    /// 1 / √α_t (the factor in front of the mean in Eq. 11).                       [T]
    public let sqrtRecipAlphas: Tensor
    /// √ᾱ_t, the signal scale of q(x_t | x_0) (Eq. 4).                             [T]
    public let sqrtAlphasCumprod: Tensor
    /// √(1 − ᾱ_t), the noise scale of q(x_t | x_0) (Eq. 4).                        [T]
    public let sqrtOneMinusAlphasCumprod: Tensor
    /// log(1 − ᾱ_t).                                                               [T]
    public let logOneMinusAlphasCumprod: Tensor
    /// √(1 / ᾱ_t), used for x̂_0 = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε (Eq. 4 solved for x_0). [T]
    public let sqrtRecipAlphasCumprod: Tensor
    /// √(1 / ᾱ_t − 1).                                                             [T]
    public let sqrtRecipm1AlphasCumprod: Tensor
    /// β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t), the posterior variance (Eq. 7); 0 at t = 1. [T]
    public let posteriorVariance: Tensor
    /// log(max(β̃_t, 1e-20)): the clip of the 2D tutorial and of lucidrains' code. At t = 1
    /// β̃ is 0 and the log is log(1e-20) ≈ −46; the samplers add no noise at that step, so
    /// the value is never used there. (The improved-diffusion code instead puts β̃_2 at t = 1.) [T]
    public let posteriorLogVarianceClipped: Tensor
    /// β_t √ᾱ_{t−1} / (1 − ᾱ_t), the coefficient of x_0 in μ̃_t (Eq. 7).          [T]
    public let posteriorMeanCoef1: Tensor
    /// (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t), the coefficient of x_t in μ̃_t (Eq. 7).    [T]
    public let posteriorMeanCoef2: Tensor
    /// The signal-to-noise ratio SNR(t) = ᾱ_t / (1 − ᾱ_t) (Kingma et al. 2021).   [T]
    public let snr: Tensor

    /// Builds a schedule and all its derived arrays.
    ///
    /// - Parameters:
    ///   - kind: linear, quadratic, cosine or sigmoid.
    ///   - timesteps: T ≥ 1.
    ///   - betaStart, betaEnd: 0 < β_start < β_end < 1 (the cosine schedule ignores them,
    ///     but they are still checked so a typo never passes silently).
    ///   - rescaleLinear: lucidrains' fix for short chains: multiply β_start and β_end of the
    ///     linear schedule by 1000/T, so that ᾱ_T stays near the T = 1000 value.
    ///   - cosineOffset: s in the cosine schedule (0.008 in Nichol & Dhariwal).
    public init(_ kind: BetaSchedule, timesteps: Int, betaStart: Double = 1e-4, betaEnd: Double = 0.02,
                rescaleLinear: Bool = false, cosineOffset: Double = 0.008) throws {
        guard timesteps >= 1 else {
            throw DiffusionError("the number of timesteps must be at least 1, got \(timesteps); try 1000.")
        }
        guard betaStart > 0, betaEnd < 1, betaStart < betaEnd else {
            throw DiffusionError("the beta range must satisfy 0 < beta-start < beta-end < 1, got \(betaStart) and \(betaEnd); try 0.0001 and 0.02.")
        }
        var start = betaStart, end = betaEnd
        if rescaleLinear && kind == .linear {
            let scale = 1000 / Double(timesteps)
            start *= scale; end *= scale
            guard end < 1 else {
                throw DiffusionError("rescaling by 1000/T = \(scale) pushes beta-end to \(end) ≥ 1; use more timesteps or no rescale.")
            }
        }
        self.kind = kind
        self.timesteps = timesteps
        self.betaStart = start
        self.betaEnd = end
        self.cosineOffset = cosineOffset
        let b = NoiseSchedule.makeBetas(kind, timesteps: timesteps, betaStart: start, betaEnd: end, s: cosineOffset)
        let d = DerivedArrays(betas: b)
        func t(_ v: [Double]) -> Tensor { Tensor(v.map { Float($0) }, shape: [timesteps]) }
        betas = t(d.betas); alphas = t(d.alphas); alphasCumprod = t(d.alphasCumprod)
        alphasCumprodPrev = t(d.alphasCumprodPrev); sqrtRecipAlphas = t(d.sqrtRecipAlphas)
        sqrtAlphasCumprod = t(d.sqrtAlphasCumprod); sqrtOneMinusAlphasCumprod = t(d.sqrtOneMinusAlphasCumprod)
        logOneMinusAlphasCumprod = t(d.logOneMinusAlphasCumprod)
        sqrtRecipAlphasCumprod = t(d.sqrtRecipAlphasCumprod); sqrtRecipm1AlphasCumprod = t(d.sqrtRecipm1AlphasCumprod)
        posteriorVariance = t(d.posteriorVariance); posteriorLogVarianceClipped = t(d.posteriorLogVarianceClipped)
        posteriorMeanCoef1 = t(d.posteriorMeanCoef1); posteriorMeanCoef2 = t(d.posteriorMeanCoef2)
        snr = t(d.snr)
    }

    /// Convenience: the schedule named `name` (throws one sentence for an unknown name).
    public init(named name: String, timesteps: Int, betaStart: Double = 1e-4, betaEnd: Double = 0.02,
                rescaleLinear: Bool = false) throws {
        try self.init(BetaSchedule(name: name), timesteps: timesteps, betaStart: betaStart,
                      betaEnd: betaEnd, rescaleLinear: rescaleLinear)
    }

    /// The betas alone, in Double.
    ///
    /// - linear:    β_t = linspace(β_start, β_end, T)
    /// - quadratic: β_t = linspace(√β_start, √β_end, T)²
    /// - cosine:    ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), t = 0…T;
    ///              β_t = 1 − ᾱ(t)/ᾱ(t−1), clipped to [1e-4, 0.9999] (the Annotated code's clip;
    ///              Nichol & Dhariwal, Eq. 17, clip at 0.999 with no lower bound). β_start and
    ///              β_end are not used.
    /// - sigmoid:   β_t = σ(linspace(−6, 6, T)) · (β_end − β_start) + β_start
    public static func makeBetas(_ kind: BetaSchedule, timesteps T: Int, betaStart: Double, betaEnd: Double,
                                 s: Double = 0.008) -> [Double] {
        switch kind {
        case .linear:
            return linspace(betaStart, betaEnd, T)
        case .quadratic:
            return linspace(betaStart.squareRoot(), betaEnd.squareRoot(), T).map { $0 * $0 }
        case .cosine:
            let f = (0...T).map { i -> Double in
                let c = cos((Double(i) / Double(T) + s) / (1 + s) * Double.pi / 2)
                return c * c
            }
            return (1...T).map { i in min(max(1 - f[i] / f[i - 1], 1e-4), 0.9999) }
        case .sigmoid:
            return linspace(-6, 6, T).map { 1 / (1 + exp(-$0)) * (betaEnd - betaStart) + betaStart }
        }
    }

    /// numpy.linspace(a, b, n): n evenly spaced values with both end points (just `a` when n = 1).
    public static func linspace(_ a: Double, _ b: Double, _ n: Int) -> [Double] {
        guard n > 1 else { return n == 1 ? [a] : [] }
        let step = (b - a) / Double(n - 1)
        return (0..<n).map { i in i == n - 1 ? b : a + Double(i) * step }
    }

    /// The derived arrays in Double precision, for tables and tests that want every digit.
    public var doubleArrays: DerivedArrays {
        DerivedArrays(betas: NoiseSchedule.makeBetas(kind, timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd,
                                                      s: cosineOffset))
    }

    /// Every derived array by its reference-code name, in a fixed order (for tables and plots).
    public var namedArrays: [(name: String, values: Tensor)] {
        [("betas", betas), ("alphas", alphas), ("alphas_cumprod", alphasCumprod),
         ("alphas_cumprod_prev", alphasCumprodPrev), ("sqrt_recip_alphas", sqrtRecipAlphas),
         ("sqrt_alphas_cumprod", sqrtAlphasCumprod), ("sqrt_one_minus_alphas_cumprod", sqrtOneMinusAlphasCumprod),
         ("log_one_minus_alphas_cumprod", logOneMinusAlphasCumprod),
         ("sqrt_recip_alphas_cumprod", sqrtRecipAlphasCumprod), ("sqrt_recipm1_alphas_cumprod", sqrtRecipm1AlphasCumprod),
         ("posterior_variance", posteriorVariance), ("posterior_log_variance_clipped", posteriorLogVarianceClipped),
         ("posterior_mean_coef1", posteriorMeanCoef1), ("posterior_mean_coef2", posteriorMeanCoef2), ("snr", snr)]
    }
}

/// The arrays of `NoiseSchedule`, in Double. Formulas are on the `NoiseSchedule` properties.
public struct DerivedArrays {
    public let betas, alphas, alphasCumprod, alphasCumprodPrev, sqrtRecipAlphas: [Double]
    public let sqrtAlphasCumprod, sqrtOneMinusAlphasCumprod, logOneMinusAlphasCumprod: [Double]
    public let sqrtRecipAlphasCumprod, sqrtRecipm1AlphasCumprod: [Double]
    public let posteriorVariance, posteriorLogVarianceClipped, posteriorMeanCoef1, posteriorMeanCoef2: [Double]
    public let snr: [Double]

    public init(betas b: [Double]) {
        betas = b
        let a = b.map { 1 - $0 }
        alphas = a
        var acc = 1.0
        alphasCumprod = a.map { acc *= $0; return acc }
        alphasCumprodPrev = [1] + alphasCumprod.dropLast()
        let ab = alphasCumprod, abPrev = alphasCumprodPrev
        sqrtRecipAlphas = a.map { (1 / $0).squareRoot() }
        sqrtAlphasCumprod = ab.map { $0.squareRoot() }
        sqrtOneMinusAlphasCumprod = ab.map { (1 - $0).squareRoot() }
        logOneMinusAlphasCumprod = ab.map { log(1 - $0) }
        sqrtRecipAlphasCumprod = ab.map { (1 / $0).squareRoot() }
        sqrtRecipm1AlphasCumprod = ab.map { (1 / $0 - 1).squareRoot() }
        let n = b.count
        posteriorVariance = (0..<n).map { b[$0] * (1 - abPrev[$0]) / (1 - ab[$0]) }
        posteriorLogVarianceClipped = posteriorVariance.map { log(max($0, 1e-20)) }
        posteriorMeanCoef1 = (0..<n).map { b[$0] * abPrev[$0].squareRoot() / (1 - ab[$0]) }
        posteriorMeanCoef2 = (0..<n).map { (1 - abPrev[$0]) * a[$0].squareRoot() / (1 - ab[$0]) }
        snr = ab.map { $0 / (1 - $0) }
    }
}
