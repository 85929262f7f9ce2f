import Foundation
import TinyTensor

/// Which sub-sequence τ of the T training steps a fast sampler visits (descending, τ_1 > … > τ_S).
///
/// For T = 1000 and S = 10:
/// - leading   τ = (0, 1, …, S−1) · ⌊T/S⌋, reversed: 900, 800, …, 0 (diffusers' default for DDIM;
///             the chain never starts at t = T − 1, so it begins from a step that still holds signal)
/// - trailing  τ = round(T − k·T/S) − 1, k = 0 … S−1: 999, 899, …, 99 (starts at the last step)
/// - linspace  τ = round(linspace(0, T − 1, S)), reversed: 999, 888, …, 0
/// - quadratic τ = ⌊(linspace(0, √(0.8 T), S))²⌋, reversed (the DDIM paper's CIFAR-10 choice:
///             dense near t = 0, where the image takes its final form)
///
/// diffusers#7401 shows the FIDs of the first three differ; Chapter 7 measures them.
public enum TimestepSpacing: String, CaseIterable {
    case leading, trailing, linspace, quadratic

    /// S distinct timestep indices in 0..<T, largest first.
    public func timesteps(count s: Int, of T: Int) -> [Int] {
        precondition(s >= 1 && s <= T, "TimestepSpacing: \(s) steps out of 1...\(T)")
        let ascending: [Int]
        switch self {
        case .leading:
            ascending = (0..<s).map { $0 * (T / s) }
        case .trailing:
            ascending = (0..<s).map { k in Int((Double(T) - Double(k) * Double(T) / Double(s)).rounded()) - 1 }.reversed()
        case .linspace:
            ascending = (0..<s).map { k in Int((Double(T - 1) * Double(k) / Double(max(1, s - 1))).rounded()) }
        case .quadratic:
            let top = (0.8 * Double(T)).squareRoot()
            ascending = (0..<s).map { k in
                let v = top * Double(k) / Double(max(1, s - 1))
                return Int(v * v)
            }
        }
        // Keep them distinct and in range (a quadratic sequence can repeat small values).
        var seen = Set<Int>(), out: [Int] = []
        for t in ascending.map({ min(max($0, 0), T - 1) }) where seen.insert(t).inserted { out.append(t) }
        return out.reversed()
    }
}

extension GaussianDiffusion {
    // MARK: - DDIM: Song, Meng & Ermon (2020)

    /// ᾱ at index t, or 1 for t < 0 (the clean end of the chain, "set_alpha_to_one").
    func alphaBar(_ t: Int) -> Double { t < 0 ? 1 : schedule.doubleArrays.alphasCumprod[t] }

    /// The network's guess of x_0 and the noise, with x̂_0 optionally clipped to [−1, 1]; after a
    /// clip, ε is re-derived from the clipped x̂_0 so the two stay consistent (lucidrains'
    /// `predict_noise_from_start`):  ε = (x_t − √ᾱ_t x̂_0) / √(1 − ᾱ_t).
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

    /// One DDIM step from index t to index tPrev (< t; −1 means the clean end), DDIM Eq. 12:
    ///
    ///     x_prev = √ᾱ_prev · x̂_0  +  √(1 − ᾱ_prev − σ²) · ε_θ(x_t, t)  +  σ z
    ///     σ = η · √((1 − ᾱ_prev)/(1 − ᾱ_t)) · √(1 − ᾱ_t/ᾱ_prev)                        (Eq. 16)
    ///
    /// η = 0 is deterministic (an ODE step, "DDIM"); η = 1 with tPrev = t − 1 is exactly DDPM's
    /// ancestral step with the posterior variance β̃_t. The same trained ε_θ serves both.
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

    /// DDIM sampling: x_τ1 ~ N(0, I), then `ddimStep` along `steps` (descending) and a last
    /// step to the clean end. `onStep` sees each step's index and the new x.
    public func ddimSampleLoop(_ model: NoisePredictor, shape: [Int], steps: [Int], eta: Double = 0,
                               clip: Bool = false, using rng: inout RandomGenerator,
                               onStep: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        let x = Tensor.randn(shape, using: &rng)                                  // x_T  [B, ...]
        return ddimSampleLoop(model, from: x, steps: steps, eta: eta, clip: clip, using: &rng, onStep: onStep)
    }

    /// DDIM sampling from a given x at steps[0] (e.g. an interpolated or inverted x_T).
    public func ddimSampleLoop(_ model: NoisePredictor, from start: Tensor, steps: [Int], eta: Double = 0,
                               clip: Bool = false, using rng: inout RandomGenerator,
                               onStep: ((Int, Tensor) -> Void)? = nil) -> Tensor {
        precondition(!steps.isEmpty && zip(steps, steps.dropFirst()).allSatisfy { $0 > $1 },
                     "ddimSampleLoop: steps must be strictly decreasing")
        var x = start
        for (i, t) in steps.enumerated() {
            let tPrev = i + 1 < steps.count ? steps[i + 1] : -1
            x = ddimStep(model, x: x, t: t, tPrev: tPrev, eta: eta, clip: clip, using: &rng)
            onStep?(t, x)
        }
        return x
    }

    /// DDIM inversion: the deterministic (η = 0) step run the other way, from a clean x_0 up to
    /// x at the largest of `steps`:
    ///
    ///     x_next = √ᾱ_next · x̂_0(x_t) + √(1 − ᾱ_next) · ε_θ(x_t, t)
    ///
    /// starting from x_0 taken as x at the smallest step (ᾱ ≈ 1 there). Sampling back from the
    /// result with `ddimSampleLoop(from:steps:)` (η = 0, same steps) returns close to x_0; how
    /// close measures how well the few-step ODE follows the exact one.
    public func ddimInvert(_ model: NoisePredictor, x0: Tensor, steps: [Int]) -> Tensor {
        let up = steps.sorted()
        precondition(!up.isEmpty && Set(up).count == up.count, "ddimInvert: steps must be distinct")
        return noGrad {
            var x = x0                                                            // [B, ...]
            for (t, tNext) in zip(up, up.dropFirst()) {
                let (guess, eps) = predictStartAndNoise(model, x: x, t: t, clip: false)
                let abNext = alphaBar(tNext)
                x = guess * Float(abNext.squareRoot()) + eps * Float((1 - abNext).squareRoot())
            }
            return x
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
