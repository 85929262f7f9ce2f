import TinyTensor

/// A layer that maps one feature map to another, `[B, C, H, W] -> [B, C', H', W']`.
///
/// The U-Net keeps layers of different kinds in the same slot (the fourth entry of a stage is a
/// `Downsample`, an `Upsample` or a plain `Conv2d`), so they share this protocol.
/// (TinyTensor's `Layer`: Conv2d, ConvTranspose2d, GroupNorm, Linear, Activation and Sequential are all one.)
public typealias UNetLayer = Layer

/// A block that also reads the time embedding `t` (`[B, timeDim]`): `ResnetBlock`, `ConvNextBlock`.
public protocol TimeConditionedBlock: Module {
    func callAsFunction(_ x: Tensor, _ timeEmbedding: Tensor?) -> Tensor
}


/// A time-conditioned block used without a time embedding, as a plain layer (the MindSpore
/// port's final block). Its parameters keep the block's own names.
public final class WithoutTime: Module, Layer {
    public let block: any TimeConditionedBlock
    public init(_ block: any TimeConditionedBlock) { self.block = block }
    public func callAsFunction(_ x: Tensor) -> Tensor { block(x, nil) }
    public override func parameterName(for property: String) -> String { property == "block" ? "" : super.parameterName(for: property) }
}

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

/// The MindSpore port's `LayerNorm(dim)`: each pixel's C channels normalised to mean 0 and
/// variance 1 (biased), then scaled by a learned gain g — no bias:
///
///     y = (x − mean_C(x)) · rsqrt(var_C(x) + 1e-5) · g        g: [1, C, 1, 1], starts at 1
///
/// Unlike `GroupNorm(1, C)` (one mean per image, over C, H and W) it keeps one mean per pixel.
/// It ends the port's `LinearAttention`. PyTorch name: `g`.
public final class ChannelLayerNorm: Module, UNetLayer {
    public let g: Tensor                 // [1, C, 1, 1]
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        g = Tensor.ones([1, dim, 1, 1]).requiringGrad()
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let mean = x.mean(axes: [1], keepDims: true)                             // [B, 1, H, W]
        let variance = x.variance(axes: [1], correction: 0, keepDims: true)      // [B, 1, H, W]
        return (x - mean) * (variance + eps).rsqrt() * g                        // [B, C, H, W]
    }
}
