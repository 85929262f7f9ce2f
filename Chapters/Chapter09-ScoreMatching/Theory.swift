import Diffusion
import Foundation
import TinyTensor

// MARK: - Why denoising score matching learns the score (Vincent 2011)
//
// What we would like to minimise is explicit score matching (ESM), the distance to the score of
// the noised data q_σ(x̃) = ∫ p(x₀) q_σ(x̃ | x₀) dx₀ (here p_σ, the clusters widened by σ):
//
//     L_ESM(θ) = E_{x̃ ~ q_σ} ‖s_θ(x̃) − ∇ log q_σ(x̃)‖²
//
// It needs ∇ log q_σ, which real data never gives us. Denoising score matching (DSM) regresses
// the score of the noising kernel q_σ(x̃ | x₀) = N(x̃; x₀, σ² I) instead, known in closed form:
//
//     L_DSM(θ) = E_{x₀ ~ p, x̃ ~ q_σ(·|x₀)} ‖s_θ(x̃) − ∇ log q_σ(x̃ | x₀)‖²,   ∇ log q_σ(x̃ | x₀) = −(x̃ − x₀)/σ² = −z/σ
//
// Vincent (2011, §4.2 and Appendix: J_ESMq_σ and J_DSMq_σ) shows L_DSM(θ) = L_ESM(θ) + C with C
// free of θ. Expand both squares: the ‖s_θ‖² terms are the same, and so are the cross terms,
// because differentiating q_σ(x̃) = ∫ p(x₀) q_σ(x̃ | x₀) dx₀ under the integral gives
//
//     E[∇ log q_σ(x̃ | x₀) | x̃] = ∇ log q_σ(x̃)
//
// What is left is C = E‖∇ log q_σ(x̃ | x₀)‖² − E‖∇ log q_σ(x̃)‖² = E‖z‖²/σ² − E‖∇ log q_σ(x̃)‖².
// So the two losses have the same minimiser, the score, although L_DSM never reaches 0 (its
// minimum is C). `checkVincent` measures both losses, weighted as in training (½ λ(σ) with
// λ(σ) = σ², which makes L_DSM the chapter's loss ½ ‖σ s_θ + z‖² at that σ), for two networks on
// the same draws: the losses differ between the networks, their difference L_DSM − L_ESM does not.

/// Both sides of Vincent's identity at each σ of `sigmas`, for each network of `networks` (name,
/// score), on `count` fresh x₀ ~ p and z ~ N(0, I) per σ, the same for every network; prints the
/// losses, their difference with its Monte Carlo standard error, C from the exact score, and the
/// gap of each network's difference to the first network's (paired: the same draws).
func checkVincent(_ p: GaussianMixture2D, networks: [(name: String, score: (Tensor, Double) -> Tensor)], sigmas: [Double],
                  count: Int, using rng: inout RandomGenerator) -> [VincentRow] {
    print(String(format: "Vincent (2011): L_DSM = L_ESM + C, both ½σ²-weighted, on %d fresh (x₀, z) per σ (the same for each network)",
                 count))
    print("  σ     network                 L_DSM      L_ESM      L_DSM − L_ESM (± s.e.)    C (± s.e.)")
    var rows: [VincentRow] = []
    for sigma in sigmas {
        let x0 = p.sample(count: count, using: &rng)                                    // x₀ ~ p  [n, 2]
        let z = Tensor.randn([count, 2], using: &rng)                                   // z ~ N(0, I)  [n, 2]
        let noised = x0 + Float(sigma) * z                                              // x̃  [n, 2]
        let exact = p.score(noised, sigma: sigma)                                       // ∇ log q_σ(x̃)  [n, 2]
        let w = 0.5 * sigma * sigma                                                     // ½ λ(σ)
        // Per draw: the constant's two terms, ½σ²‖−z/σ‖² − ½σ²‖∇ log q_σ(x̃)‖².
        let c = (0..<count).map { i -> Double in
            let zx = Double(z.data[2 * i]), zy = Double(z.data[2 * i + 1])
            let gx = Double(exact.data[2 * i]), gy = Double(exact.data[2 * i + 1])
            return 0.5 * (zx * zx + zy * zy) - w * (gx * gx + gy * gy)
        }
        var differences: [[Double]] = []
        for (k, network) in networks.enumerated() {
            let s = network.score(noised, sigma)                                         // s_θ(x̃, σ)  [n, 2]
            var dsm = 0.0, esm = 0.0, d = [Double](repeating: 0, count: count)
            for i in 0..<count {
                var a = 0.0, b = 0.0
                for j in 0..<2 {
                    let sv = Double(s.data[2 * i + j])
                    let toKernel = sv + Double(z.data[2 * i + j]) / sigma              // s_θ − (−z/σ)
                    let toScore = sv - Double(exact.data[2 * i + j])                    // s_θ − ∇ log q_σ(x̃)
                    a += toKernel * toKernel
                    b += toScore * toScore
                }
                dsm += w * a
                esm += w * b
                d[i] = w * (a - b)
            }
            differences.append(d)
            let difference = meanAndError(d), constant = meanAndError(c)
            let gap = meanAndError(zip(d, differences[0]).map { $0 - $1 })
            rows.append(VincentRow(sigma: sigma, network: network.name, dsm: dsm / Double(count), esm: esm / Double(count),
                                   difference: difference.mean, differenceError: difference.error, constant: constant.mean,
                                   gapToFirst: gap.mean, gapError: gap.error))
            let label = k == 0 ? String(format: "%-5g", sigma) : "     "
            print("  " + label + " " + network.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                  + String(format: "%8.4f   %8.4f   %8.4f (± %.4f)", dsm / Double(count), esm / Double(count),
                           difference.mean, difference.error)
                  + (k == 0 ? String(format: "      %.4f (± %.4f)", constant.mean, constant.error)
                            : String(format: "      apart from the first: %.4f ± %.4f", gap.mean, gap.error)))
        }
    }
    return rows
}

/// One network at one σ in `checkVincent` (metrics.json): the two losses, their difference and
/// its standard error, C from the exact score, and the paired gap to the first network's difference.
struct VincentRow: Encodable {
    var sigma: Double
    var network: String
    var dsm: Double
    var esm: Double
    var difference: Double
    var differenceError: Double
    var constant: Double
    var gapToFirst: Double
    var gapError: Double
}

/// The mean of `v` and its standard error, the sample standard deviation over √n.
func meanAndError(_ v: [Double]) -> (mean: Double, error: Double) {
    let n = Double(v.count), mean = v.reduce(0, +) / n
    let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, n - 1)
    return (mean, (variance / n).squareRoot())
}
