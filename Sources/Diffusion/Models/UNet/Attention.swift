import TinyTensor

/// Splits `[B, heads·d, H, W]` into heads: `[B, heads, d, H·W]` ('b (h c) x y -> b h c (x y)').
@inline(__always)
func splitHeads(_ t: Tensor, heads: Int) -> Tensor {
    let (b, c, h, w) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
    return t.reshape([b, heads, c / heads, h * w])                        // [B, heads, d, N]
}

/// q, k, v = chunk(Conv1×1(x; W_qkv), 3) along the channels, computed as three 1×1 convs with
/// the three row blocks of W_qkv (the same numbers). Slicing the small weight instead of the
/// big output saves the backward pass three scatters of a [B, 3·hidden, H, W] gradient.
/// Each result is split into heads: `[B, heads, d, H·W]`.
func projectQKV(_ x: Tensor, _ toQKV: Conv2d, heads: Int) -> (q: Tensor, k: Tensor, v: Tensor) {
    let w = toQKV.weight.chunk(3, axis: 0)                                // 3 × [hidden, C, 1, 1]
    let parts = w.map { splitHeads(Tensor.conv2d(x, weight: $0, bias: nil), heads: heads) }  // 3 × [B, heads, d, N]
    return (parts[0], parts[1], parts[2])
}

/// Multi-head self-attention over the pixels of a feature map (Vaswani et al. 2017), used in
/// the middle of the U-Net where the map is smallest (7×7 for Fashion-MNIST):
///
///     q, k, v = split(Conv1×1(x))                   each [B, heads, d, N],  N = H·W
///     A = softmax_j(qᵢ·kⱼ / √d)                     [B, heads, N, N]   (every pixel looks at every pixel)
///     y = Conv1×1(A·v)                               back to [B, dim, H, W]
///
/// The products use `matmul`'s transpose flags (qᵀ·k and v·Aᵀ, the latter giving each head's
/// output channels-first, ready to reshape) instead of writing the transposes out.
///
/// Cost grows with N². Default 4 heads × 32 dimensions. PyTorch names: `to_qkv.weight`
/// (no bias), `to_out.weight`, `to_out.bias`.
public final class Attention: Module, UNetLayer {
    public let toQKV: Conv2d
    public let toOut: Conv2d
    public let heads: Int
    public let scale: Float

    public init(_ dim: Int, heads: Int = 4, dimHead: Int = 32, rng: inout RandomGenerator) {
        let hidden = heads * dimHead
        toQKV = Conv2d(dim, hidden * 3, kernelSize: 1, bias: false, rng: &rng)
        toOut = Conv2d(hidden, dim, kernelSize: 1, rng: &rng)
        self.heads = heads
        scale = 1 / Float(dimHead).squareRoot()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (query, k, v) = projectQKV(x, toQKV, heads: heads)            // 3 × [B, heads, d, N]
        let q = query * scale                                             // [B, heads, d, N]
        let sim = q.matmul(k, transposeSelf: true)                        // [B, heads, N, N]  sim_ij = qᵢ·kⱼ
        let attn = sim.softmax(axis: -1)                                  // [B, heads, N, N]  rows sum to 1
        let out = v.matmul(attn, transposeOther: true)                    // [B, heads, d, N]  out_i = Σ_j A_ij vⱼ
        return toOut(out.reshape([b, -1, h, w]))                          // [B, dim, H, W]
    }
}

/// Linear attention (Shen et al. 2018, "Efficient Attention"): softmax q over its d features
/// and k over the N positions, then multiply in the cheap order:
///
///     context = k·vᵀ                     [B, heads, d, e]   (a d×e summary of the whole image)
///     out     = contextᵀ·q               [B, heads, e, N]
///     y = GroupNorm(1, dim)(Conv1×1(out))
///
/// Cost grows with N, not N², so it runs at every resolution. PyTorch names: `to_qkv.weight`,
/// `to_out.0.weight` (conv), `to_out.0.bias`, `to_out.1.weight` (GroupNorm), `to_out.1.bias`.
///
/// The MindSpore port (the blog's first version) differs in two lines, selected by `.mindSpore`:
/// it divides v by N = h·w before the products (`v = v / (h * w)`), and its output norm is its own
/// `LayerNorm` over the channels of each pixel (`ChannelLayerNorm`, one gain `to_out.1.g`).
public final class LinearAttention: Module, UNetLayer {
    /// The Annotated post's version, or the MindSpore port's.
    public enum Variant: Sendable { case annotated, mindSpore }

    public let toQKV: Conv2d
    public let toOut: Sequential         // Conv2d(hidden, dim, 1), GroupNorm(1, dim) | ChannelLayerNorm(dim)
    public let heads: Int
    public let scale: Float
    public let variant: Variant

    public init(_ dim: Int, heads: Int = 4, dimHead: Int = 32, variant: Variant = .annotated,
                rng: inout RandomGenerator) {
        let hidden = heads * dimHead
        toQKV = Conv2d(dim, hidden * 3, kernelSize: 1, bias: false, rng: &rng)
        let conv = Conv2d(hidden, dim, kernelSize: 1, rng: &rng)
        let norm: any UNetLayer = variant == .annotated ? GroupNorm(groups: 1, channels: dim, eps: 1e-5) : ChannelLayerNorm(dim)
        toOut = Sequential(conv, norm)
        self.heads = heads
        scale = 1 / Float(dimHead).squareRoot()
        self.variant = variant
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (query, key, value) = projectQKV(x, toQKV, heads: heads)      // 3 × [B, heads, d, N]
        let q = query.softmax(axis: -2) * scale                           // [B, heads, d, N]  softmax over d
        let k = key.softmax(axis: -1)                                     // [B, heads, d, N]  softmax over N
        let v = variant == .mindSpore ? value * (1 / Float(h * w)) : value   // [B, heads, e, N]
        let context = k.matmul(v, transposeOther: true)                   // [B, heads, d, e]  k·vᵀ
        let out = context.matmul(q, transposeSelf: true)                  // [B, heads, e, N]  contextᵀ·q
        return toOut(out.reshape([b, -1, h, w]))                          // [B, dim, H, W]
    }
}
