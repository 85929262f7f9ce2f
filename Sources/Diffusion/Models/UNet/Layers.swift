import TinyTensor

/// A layer that maps one feature map to another, `[B, C, H, W] -> [B, C', H', W']`.
///
/// The U-Net keeps layers of different kinds in the same slot (the fourth entry of a stage is a
/// `Downsample`, an `Upsample` or a plain `Conv2d`), so they share this protocol.
public protocol UNetLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// A block that also reads the time embedding `t` (`[B, timeDim]`): `ResnetBlock`, `ConvNextBlock`.
public protocol TimeConditionedBlock: Module {
    func callAsFunction(_ x: Tensor, _ timeEmbedding: Tensor?) -> Tensor
}

extension Conv2d: UNetLayer {}
extension ConvTranspose2d: UNetLayer {}
extension GroupNorm: UNetLayer {}

/// `Residual(fn)`: y = fn(x) + x, the skip connection around the attention layers.
/// PyTorch name of the wrapped layer: `fn`.
public final class Residual: Module, UNetLayer {
    public let fn: any UNetLayer

    public init(_ fn: any UNetLayer) { self.fn = fn }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        fn(x) + x                                                         // [B, C, H, W]
    }
}

/// `PreNorm(dim, fn)`: y = fn(GroupNorm(1, dim)(x)), normalisation before attention
/// ("pre-norm", as in most modern Transformers). GroupNorm with one group normalises each
/// image over all its channels and pixels, like LayerNorm over (C, H, W).
public final class PreNorm: Module, UNetLayer {
    // Declared in PyTorch's order (`fn` first), so state_dict names come out in the same order.
    public let fn: any UNetLayer
    public let norm: GroupNorm

    public init(_ dim: Int, _ fn: any UNetLayer) {
        self.fn = fn
        self.norm = GroupNorm(groups: 1, channels: dim, eps: 1e-5)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        fn(norm(x))                                                       // [B, C, H, W]
    }
}
