import Foundation
import TinyTensor

/// The Transformer's sinusoidal position encoding (Vaswani et al. 2017, section 3.5), used to
/// tell the network the time step t:
///
///     freq_i = exp(−i · ln(10000) / (half − 1)),  i = 0 ..< half,  half = dim / 2
///     emb(t) = [sin(t·freq_0), ..., sin(t·freq_{half−1}), cos(t·freq_0), ..., cos(t·freq_{half−1})]
///
/// The first columns turn quickly with t, the last ones slowly, so every t gets a distinct,
/// smooth code. No parameters. `time`: `[B]` → `[B, dim]`.
public final class SinusoidalPositionEmbeddings: Module, UNetLayer {
    public let dim: Int

    public init(_ dim: Int) {
        precondition(dim >= 4 && dim % 2 == 0, "SinusoidalPositionEmbeddings: dim must be even and at least 4, got \(dim)")
        self.dim = dim
    }

    /// The frequencies freq_i, `[dim / 2]`.
    public var frequencies: [Float] {
        let half = dim / 2
        let step = Foundation.log(10000.0) / Double(half - 1)
        return (0..<half).map { Float(Foundation.exp(Double($0) * -step)) }
    }

    public func callAsFunction(_ time: Tensor) -> Tensor {
        let t = time.reshape([time.count, 1])                             // [B, 1]
        let freqs = Tensor(frequencies, shape: [1, dim / 2])              // [1, dim/2]
        let angles = t * freqs                                            // [B, dim/2]
        return Tensor.concat([angles.sin(), angles.cos()], axis: 1)       // [B, dim]
    }
}
