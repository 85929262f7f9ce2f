import TinyTensor

/// The Annotated Diffusion Model's `SinusoidalPositionEmbeddings(dim)`: the first entry of the
/// U-Net's `time_mlp`. It wraps `sinusoidalTimeEmbedding` (Models/TimeEmbedding.swift, the same
/// code Chapter 4 uses) as a module, so it can sit in a `Sequential`:
///
///     ωᵢ = exp(−ln(10000) · i / (half − 1)),  i = 0 ..< half,  half = dim / 2
///     emb(t) = [sin(t·ω₀), ..., sin(t·ω_{half−1}), cos(t·ω₀), ..., cos(t·ω_{half−1})]
///
/// No parameters (so `time_mlp.0` has no entry in the state dict). `time`: `[B]` → `[B, dim]`.
public final class SinusoidalPositionEmbeddings: Module, UNetLayer {
    public let dim: Int

    public init(_ dim: Int) {
        precondition(dim >= 4 && dim % 2 == 0, "SinusoidalPositionEmbeddings: dim must be even and at least 4, got \(dim)")
        self.dim = dim
    }

    /// The frequencies ωᵢ, `[dim / 2]`.
    public var frequencies: [Float] { timeEmbeddingFrequencies(dim: dim) }

    public func callAsFunction(_ time: Tensor) -> Tensor {
        sinusoidalTimeEmbedding(time.data, dim: dim)                      // [B, dim]
    }
}
