import Foundation

/// A lookup table of learned vectors, `torch.nn.Embedding`: row i of `weight` is the vector of
/// index i. Looking up is `indexSelect` on the rows, so the gradient of a row is the sum of the
/// gradients of every place it was used.
///
/// Initialisation as PyTorch's: weight ~ N(0, 1).
public final class Embedding: Module {
    public let weight: Tensor      // [numEmbeddings, dim]

    public init(_ numEmbeddings: Int, _ dim: Int, rng: inout RandomGenerator) {
        precondition(numEmbeddings >= 1 && dim >= 1, "Embedding: needs at least one entry of size >= 1")
        weight = Tensor.randn([numEmbeddings, dim], using: &rng).requiringGrad()
    }

    /// indices [B] → [B, dim]
    public func callAsFunction(_ indices: [Int]) -> Tensor {
        weight.indexSelect(indices, axis: 0)
    }
}
