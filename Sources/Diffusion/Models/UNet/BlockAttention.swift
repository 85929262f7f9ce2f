import TinyTensor

/// The TwoResUNet article's optional `BlockAttention` (from ACC-UNet; an attention gate in the
/// manner of Oktay et al. 2018, "Attention U-Net"): a skip connection x is weighted, pixel by
/// pixel, by how well it agrees with a gate g from deeper in the network:
///
///     a = ReLU(Conv1×1_g(g) + Conv1×1_x(x))       [B, gateChannels, H, W]
///     w = σ(Conv1×1(a))                           [B, 1, H, W], one weight in (0, 1) per pixel
///     y = w · x                                   [B, skipChannels, H, W]
///
/// "gate represents the upsample output of the lower block, while x residual represents the
/// residual connection at the level where attention is applied" (seeds/002). PyTorch names:
/// `gate_conv.weight`, `residual_conv.weight`, `in_conv.weight` (all with bias). The article's
/// `scale_factor` argument is never used, so it is not kept here.
public final class BlockAttention: Module {
    public let gateConv: Conv2d          // gate → gate channels
    public let residualConv: Conv2d      // skip → gate channels
    public let inConv: Conv2d            // gate channels → 1

    public init(gateChannels: Int, residualChannels: Int, rng: inout RandomGenerator) {
        gateConv = Conv2d(gateChannels, gateChannels, kernelSize: 1, rng: &rng)
        residualConv = Conv2d(residualChannels, gateChannels, kernelSize: 1, rng: &rng)
        inConv = Conv2d(gateChannels, 1, kernelSize: 1, rng: &rng)
    }

    /// x: the skip `[B, residualChannels, H, W]`; gate: `[B, gateChannels, H, W]` → x weighted.
    public func callAsFunction(_ x: Tensor, gate: Tensor) -> Tensor {
        let a = (gateConv(gate) + residualConv(x)).relu()                 // [B, gateChannels, H, W]
        let w = inConv(a).sigmoid()                                       // [B, 1, H, W]
        return w * x                                                      // [B, residualChannels, H, W]
    }
}
