import TinyTensor

/// `Block(dim, dimOut, groups)`: weight-standardised 3×3 conv → GroupNorm → (scale, shift) → SiLU.
///
///     h = GroupNorm(WSConv3×3(x))
///     h = h · (scale + 1) + shift       (only when the time embedding gives scale and shift)
///     y = SiLU(h)
///
/// PyTorch names: `proj.weight`, `proj.bias`, `norm.weight`, `norm.bias`.
public final class Block: Module {
    public let proj: WeightStandardizedConv2d
    public let norm: GroupNorm

    public init(_ dim: Int, _ dimOut: Int, groups: Int = 8, rng: inout RandomGenerator) {
        proj = WeightStandardizedConv2d(dim, dimOut, kernelSize: 3, padding: 1, rng: &rng)
        norm = GroupNorm(groups: groups, channels: dimOut, eps: 1e-5)
    }

    /// x: `[B, dim, H, W]`, scaleShift: two `[B, dimOut, 1, 1]` → `[B, dimOut, H, W]`.
    public func callAsFunction(_ x: Tensor, scaleShift: (scale: Tensor, shift: Tensor)? = nil) -> Tensor {
        var h = norm(proj(x))                                             // [B, dimOut, H, W]
        if let (scale, shift) = scaleShift {
            h = h * (scale + 1) + shift                                   // [B, dimOut, H, W]
        }
        return h.silu()
    }
}

/// The residual block of the Annotated U-Net (a Wide-ResNet block, Zagoruyko & Komodakis 2016,
/// with weight-standardised convs), conditioned on time through FiLM-style scale and shift:
///
///     (scale, shift) = chunk(Linear(SiLU(t)), 2)        t: [B, timeEmbDim] → two [B, dimOut, 1, 1]
///     h = Block2(Block1(x, scale, shift))
///     y = h + resConv(x)                                 resConv: 1×1 conv, or the identity if dim == dimOut
///
/// PyTorch names: `mlp.1.weight`, `block1.proj.weight`, `block2.norm.bias`, `res_conv.weight`, ...
public final class ResnetBlock: Module, TimeConditionedBlock {
    public let mlp: Sequential?          // SiLU, Linear(timeEmbDim, 2·dimOut)
    public let block1: Block
    public let block2: Block
    public let resConv: Conv2d?          // nil: the identity

    public init(_ dim: Int, _ dimOut: Int, timeEmbDim: Int?, groups: Int = 8, rng: inout RandomGenerator) {
        if let timeEmbDim {
            let silu = Activation(.silu), linear = Linear(timeEmbDim, dimOut * 2, rng: &rng)
            mlp = Sequential(silu, linear)
        } else {
            mlp = nil
        }
        block1 = Block(dim, dimOut, groups: groups, rng: &rng)
        block2 = Block(dimOut, dimOut, groups: groups, rng: &rng)
        resConv = dim != dimOut ? Conv2d(dim, dimOut, kernelSize: 1, rng: &rng) : nil
    }

    /// x: `[B, dim, H, W]`, timeEmbedding: `[B, timeEmbDim]` → `[B, dimOut, H, W]`.
    public func callAsFunction(_ x: Tensor, _ timeEmbedding: Tensor?) -> Tensor {
        var scaleShift: (scale: Tensor, shift: Tensor)? = nil
        if let mlp, let timeEmbedding {
            let e = mlp(timeEmbedding)                                    // [B, 2·dimOut]
            let parts = e.reshape([e.shape[0], e.shape[1], 1, 1]).chunk(2, axis: 1)  // 2 × [B, dimOut, 1, 1]
            scaleShift = (parts[0], parts[1])
        }
        let h = block2(block1(x, scaleShift: scaleShift))                 // [B, dimOut, H, W]
        return h + (resConv.map { $0(x) } ?? x)                           // [B, dimOut, H, W]
    }
}
