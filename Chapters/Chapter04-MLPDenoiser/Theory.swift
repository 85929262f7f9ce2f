import Diffusion
import Foundation
import TinyTensor

// MARK: - Why predicting the noise is enough: from the ELBO to L_simple
//
// Training maximises a lower bound on log p_θ(x_0) (DDPM Eq. 5). Apart from two end terms it is
// a sum over t of KL divergences between two Gaussians: the true step back
// q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I) (Chapter 3, Eq. 6–7) and the model's step back
// p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I). With the variance fixed to σ_t², each KL is a
// squared distance between the means (Eq. 8):
//
//     L_{t−1} = ‖μ̃_t − μ_θ(x_t, t)‖² / (2σ_t²) + const
//
// Give μ_θ the ε form of μ̃_t (Chapter 3, Eq. 11) with the network's guess ε_θ in place of ε:
//
//     μ_θ(x_t, t) = 1/√α_t · (x_t − β_t/√(1 − ᾱ_t) · ε_θ(x_t, t))
//
// and the difference of the means is a scaled difference of the noises (Eq. 12):
//
//     L_{t−1} = λ_t ‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖²,   λ_t = β_t² / (2σ_t² α_t (1 − ᾱ_t))
//
// L_simple (Eq. 14), the loss trained in this chapter, drops λ_t: the bound's weights are
// largest at small t, where the noise is tiny and easy to get almost right; without them the
// network spends its effort on the noisier, harder steps, which Ho et al. found gives better
// samples. `checkObjective` evaluates both sides of Eq. 12 on the trained model.
//
// MARK: - Algorithm 2, the 2D tutorial's four-step way
//
// The one-line update `pSample` uses is Eq. 11 with ε_θ for ε. The 2D tutorial writes the same
// step in four:
//
//     1. predict the noise             ε_θ(x_t, t)
//     2. guess the clean point         x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t
//     3. the posterior's mean and var  μ̃_t(x̂_0, x_t) and β̃_t          (Chapter 3, Eq. 7)
//     4. sample                        x_{t−1} = μ̃_t + √β̃_t z
//
// `checkFourSteps` takes one step both ways with the same z.

/// Both sides of Eq. 12 on 2000 fresh (x_0, t, ε) with σ_t² = β̃_t, and λ_t at a few t.
func checkObjective(_ trained: DiffusionTrainer, data: ToyDataset, using rng: inout RandomGenerator) {
    let d = trained.diffusion, s = d.schedule.doubleArrays, T = d.timesteps, n = 2000
    let rows = rng.integers(count: n, below: data.count)
    let x0 = data.points.indexSelect(rows, axis: 0)                                     // [n, 2]
    let t = rng.integers(count: n, below: T - 1).map { $0 + 1 }      // β̃ is 0 at index 0 (x_0 is known)
    let eps = Tensor.randn([n, 2], using: &rng)                                         // [n, 2]
    let xt = d.qSample(x0, t: t, noise: eps)                                            // [n, 2]
    let epsTheta = trained.withSamplingWeights { noGrad { trained.noisePredictor(xt, t) } }      // [n, 2]
    let muTilde = d.qPosteriorMeanVariance(x0: x0, xt: xt, t: t).mean                   // [n, 2]
    var kl = 0.0, weighted = 0.0
    for i in 0..<n {
        let k = t[i], variance = s.posteriorVariance[k]
        let lambda = s.betas[k] * s.betas[k] / (2 * variance * (1 - s.betas[k]) * (1 - s.alphasCumprod[k]))
        for j in 0..<2 {
            let xtv = Double(xt.data[2 * i + j]), e = Double(eps.data[2 * i + j]), et = Double(epsTheta.data[2 * i + j])
            let muTheta = s.sqrtRecipAlphas[k] * (xtv - s.betas[k] / s.sqrtOneMinusAlphasCumprod[k] * et)
            let gap = Double(muTilde.data[2 * i + j]) - muTheta
            kl += gap * gap / (2 * variance)                                  // ‖μ̃ − μ_θ‖² / (2σ²)
            weighted += lambda * (e - et) * (e - et)                          // λ_t ‖ε − ε_θ‖²
        }
    }
    kl /= Double(n); weighted /= Double(n)
    print(String(format: "Eq. 12 on %d fresh (x_0, t, eps), sigma^2 = beta~: mean |mu~ - mu_theta|^2/(2 sigma^2) = %.4f,", n, kl))
    print(String(format: "    mean lambda_t |eps - eps_theta|^2 = %.4f (relative gap %.1e: the same number, rounding apart)",
                 weighted, abs(kl - weighted) / max(kl, 1e-30)))
    let shown = [1, T / 10, T / 2, T - 1]
    print("    lambda_t, the weight L_simple drops: " + shown.map { k in
        let lambda = s.betas[k] * s.betas[k] / (2 * s.posteriorVariance[k] * (1 - s.betas[k]) * (1 - s.alphasCumprod[k]))
        return String(format: "t = %d: %.3g", k, lambda)
    }.joined(separator: ", "))
}

/// One reverse step at a few t, by `pSample` and by the four steps, from the same x_t with the
/// same z; prints the largest difference.
func checkFourSteps(_ trained: DiffusionTrainer, using rng: inout RandomGenerator) {
    let d = trained.diffusion, T = d.timesteps
    var worst: Float = 0
    for t in [1, T / 2, T - 1] {
        let x = Tensor.randn([1000, 2], using: &rng)                                     // x_t  [1000, 2]
        var same = rng                                                  // a copy: the same z for both routes
        let oneLine = trained.withSamplingWeights {
            d.pSample(trained.noisePredictor, x: x, t: t, using: &rng)            // [1000, 2]
        }
        let steps = Array(repeating: t, count: 1000)
        let epsTheta = trained.withSamplingWeights { noGrad { trained.noisePredictor(x, steps) } }   // 1.  [1000, 2]
        let x0Hat = d.predictStartFromNoise(x, t: steps, noise: epsTheta)                   // 2.  [1000, 2]
        let (mean, variance, _) = d.qPosteriorMeanVariance(x0: x0Hat, xt: x, t: steps)    // 3.  [1000, 2], [1000, 1]
        let z = Tensor(same.normal(count: x.count), shape: x.shape)                        //     [1000, 2]
        let fourSteps = mean + variance.sqrt() * z                                          // 4.  [1000, 2]
        worst = max(worst, zip(oneLine.data, fourSteps.data).map { abs($0 - $1) }.max() ?? 0)
    }
    print(String(format: "one reverse step at t = 1, %d, %d: four-step route against pSample, same z: largest |difference| %.1e",
                 T / 2, T - 1, worst))
}
