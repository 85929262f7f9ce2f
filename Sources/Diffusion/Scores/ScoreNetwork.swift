import Foundation
import TinyTensor

/// A noise-conditional score network s_θ(x, σ) ≈ ∇_x log p_σ(x) for points in the plane
/// (Song & Ermon 2019's NCSN, as a small MLP instead of a RefineNet):
///
///     u   = [x / √(v_data + σ²), log σ]            input scaled to unit size at every σ   [B, 3]
///     h   = SiLU(W_k h + b_k)  for each hidden width                                      [B, w]
///     s_θ = (W_out h + b_out) / σ                                                          [B, 2]
///
/// Dividing the output by σ is NCSNv2's parameterisation (Song & Ermon 2020, Technique 3):
/// the true score grows like 1/σ, so the network itself only has to output numbers of size
/// about 1 at every level. It also makes σ s_θ a noise predictor: see
/// `denoisingScoreMatchingLoss`. Scaling the input by 1/√(v_data + σ²) (v_data: the data's
/// variance per coordinate) keeps the first layer's inputs of size about 1 whatever σ is
/// (Karras et al. 2022's c_in).
///
/// Parameter names follow PyTorch: `layers.0.weight` … `layers.3.bias`.
public final class NoiseConditionalScoreMLP: Module {
    /// The linear layers; SiLU between them, none after the last.
    public let layers: [Linear]
    /// v_data, the data's variance per coordinate (8 for the course's clusters: radius 4).
    public let dataVariance: Double

    public init(hidden: [Int] = [64, 64, 64], dataVariance: Double = 8, rng: inout RandomGenerator) {
        precondition(!hidden.isEmpty && hidden.allSatisfy { $0 >= 1 }, "NoiseConditionalScoreMLP: needs hidden widths >= 1")
        let widths = [3] + hidden + [2]
        var built: [Linear] = []
        for k in 0..<(widths.count - 1) { built.append(Linear(widths[k], widths[k + 1], rng: &rng)) }
        layers = built
        self.dataVariance = dataVariance
    }

    /// s_θ(x, σ) for points x [B, 2], one σ per row → [B, 2].
    public func callAsFunction(_ x: Tensor, sigmas: [Double]) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == 2 && sigmas.count == x.shape[0] && sigmas.allSatisfy { $0 > 0 },
                     "NoiseConditionalScoreMLP: expected x [B, 2] and B positive sigmas, got \(x.shape) and \(sigmas.count)")
        let b = x.shape[0]
        let inputScale = Tensor(sigmas.map { Float(1 / (dataVariance + $0 * $0).squareRoot()) }, shape: [b, 1])  // [B, 1]
        let logSigma = Tensor(sigmas.map { Float(Foundation.log($0)) }, shape: [b, 1])                       // [B, 1]
        var h = Tensor.concat([x * inputScale, logSigma], axis: 1)                                          // [B, 3]
        for layer in layers.dropLast() { h = layer(h).silu() }                                              // [B, w]
        let inverseSigma = Tensor(sigmas.map { Float(1 / $0) }, shape: [b, 1])                              // [B, 1]
        return layers.last!(h) * inverseSigma                                                               // [B, 2]
    }

    /// s_θ(x, σ) with the same σ for every row.
    public func callAsFunction(_ x: Tensor, sigma: Double) -> Tensor {
        callAsFunction(x, sigmas: Array(repeating: sigma, count: x.shape[0]))
    }
}

/// Denoising score matching (Vincent 2011; Song & Ermon 2019, Eq. 5–6) with the weight
/// λ(σ) = σ²: perturb the data, x̃ = x + σ z, and regress the score on the direction back
/// to the data, whose expectation given x̃ *is* the score of p_σ:
///
///     λ(σ) · ½ ‖s_θ(x̃, σ) + (x̃ − x)/σ²‖²  =  ½ ‖σ s_θ(x̃, σ) + z‖²
///
/// averaged over the batch. Written on the right it is DDPM's noise regression in another
/// coat: σ s_θ plays −ε_θ, which is why Chapter 9 can use Chapter 4's ε_θ as a score.
///
/// - Parameters:
///   - score: (x̃ [B, 2], σ per row) ↦ s_θ [B, 2].
///   - x0: clean points [B, 2]; `sigmas`: one σ per row; `noise`: z [B, 2].
public func denoisingScoreMatchingLoss(_ score: (Tensor, [Double]) -> Tensor, x0: Tensor, sigmas: [Double],
                                       noise z: Tensor) -> Tensor {
    precondition(x0.shape == z.shape && sigmas.count == x0.shape[0],
                 "denoisingScoreMatchingLoss: x0 \(x0.shape), noise \(z.shape) and \(sigmas.count) sigmas do not match")
    let sigma = Tensor(sigmas.map(Float.init), shape: [sigmas.count, 1])                    // [B, 1]
    let perturbed = x0 + sigma * z                                                          // x̃  [B, D]
    let residual = score(perturbed, sigmas) * sigma + z                                     // σ s_θ + z  [B, D]
    return 0.5 * residual.square().sum(axis: 1).mean()                                      // scalar
}
