import Foundation
import TinyTensor

/// The fixed sinusoidal embedding of a timestep (Vaswani et al. 2017, §3.5; DDPM §4 and
/// Appendix B): the 2D tutorial's `get_timestep_embedding` and the Annotated Diffusion's
/// `SinusoidalPositionEmbeddings` compute the same thing. With half = dim / 2,
///
///     ωᵢ = exp(−log(10000) · i / (half − 1)),  i = 0 … half − 1
///     emb(t) = [sin(t·ω₀), …, sin(t·ω_{half−1}), cos(t·ω₀), …, cos(t·ω_{half−1})]
///
/// (a zero is appended when `dim` is odd). The fastest frequency ω₀ = 1 tells neighbouring
/// steps apart; the slowest, 1/10000, varies smoothly over the whole chain.
///
/// - Parameters:
///   - timesteps: one (possibly fractional) time per sample, B entries.
///   - dim: the embedding size (≥ 2).
/// - Returns: [B, dim]. No gradient flows to the times.
public func sinusoidalTimeEmbedding(_ timesteps: [Float], dim: Int) -> Tensor {
    precondition(dim >= 2, "sinusoidalTimeEmbedding: dim must be at least 2, got \(dim)")
    let half = dim / 2
    let frequencies = timeEmbeddingFrequencies(dim: dim)
    var out = [Float](repeating: 0, count: timesteps.count * dim)       // [B, dim]
    for (b, t) in timesteps.enumerated() {
        let row = b * dim
        for i in 0..<half {
            let angle = t * frequencies[i]
            out[row + i] = Foundation.sin(angle)
            out[row + half + i] = Foundation.cos(angle)
        }
    }
    return Tensor(out, shape: [timesteps.count, dim])
}

/// Integer timesteps (the usual case): see `sinusoidalTimeEmbedding(_:dim:)`.
public func sinusoidalTimeEmbedding(_ timesteps: [Int], dim: Int) -> Tensor {
    sinusoidalTimeEmbedding(timesteps.map(Float.init), dim: dim)
}

/// ωᵢ = exp(−log(10000) · i / (half − 1)), computed like the Float32 reference code
/// (TensorFlow / PyTorch): the scale log(10000)/(half − 1) rounded to Float first.
/// With half = 1 the single frequency is 1.
func timeEmbeddingFrequencies(dim: Int) -> [Float] {
    let half = dim / 2
    let scale = half > 1 ? Float(Foundation.log(10000.0)) / Float(half - 1) : 0
    return (0..<half).map { Foundation.exp(Float($0) * -scale) }
}

/// The embeddings of every integer timestep 0..<T computed once ([T, dim]): a training step
/// or a sampling step then copies rows instead of evaluating thousands of sines.
public struct TimeEmbeddingTable {
    public let dim: Int
    public let timesteps: Int
    /// Row t is emb(t).                                                         [T, dim]
    public let table: [Float]

    public init(timesteps: Int, dim: Int) {
        self.dim = dim
        self.timesteps = timesteps
        table = sinusoidalTimeEmbedding(Array(0..<timesteps), dim: dim).data
    }

    /// The rows of `t` as a tensor.                                            [B, dim]
    public func callAsFunction(_ t: [Int]) -> Tensor {
        var out = [Float](repeating: 0, count: t.count * dim)
        table.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (b, step) in t.enumerated() {
                    precondition(step >= 0 && step < timesteps, "TimeEmbeddingTable: timestep \(step) out of range 0..<\(timesteps)")
                    for i in 0..<dim { dst[b * dim + i] = src[step * dim + i] }
                }
            }
        }
        return Tensor(out, shape: [t.count, dim])
    }
}
