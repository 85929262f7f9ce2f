import TinyTensor

/// `Downsample(dim, dimOut)`: halve H and W without strided convs or pooling — move each 2×2
/// patch into the channels (pixel-unshuffle, 'b c (h p1) (w p2) -> b (c p1 p2) h w'), then mix
/// with a 1×1 conv:
///
///     [B, dim, H, W] → pixelUnshuffle(2) → [B, 4·dim, H/2, W/2] → Conv1×1 → [B, dimOut, H/2, W/2]
///
/// No information is lost before the conv. PyTorch's `nn.Sequential(Rearrange, Conv2d)` names
/// the conv `1`: `1.weight`, `1.bias`.
public final class Downsample: Module, UNetLayer {
    public let conv: Conv2d

    public init(_ dim: Int, _ dimOut: Int? = nil, rng: inout RandomGenerator) {
        conv = Conv2d(dim * 4, dimOut ?? dim, kernelSize: 1, rng: &rng)
    }

    public override func parameterName(for property: String) -> String { property == "conv" ? "1" : super.parameterName(for: property) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0,
                     "Downsample: H and W must be even, got \(x.shape); the image side must be divisible by 2^(stages − 1)")
        return conv(x.pixelUnshuffle(2))                                  // [B, dimOut, H/2, W/2]
    }
}

/// `Upsample(dim, dimOut)`: double H and W by nearest-neighbour repetition, then a 3×3 conv
/// smooths the blocks:
///
///     [B, dim, H, W] → nearest ×2 → [B, dim, 2H, 2W] → Conv3×3 → [B, dimOut, 2H, 2W]
///
/// PyTorch's `nn.Sequential(nn.Upsample, Conv2d)` names the conv `1`.
public final class Upsample: Module, UNetLayer {
    public let conv: Conv2d

    public init(_ dim: Int, _ dimOut: Int? = nil, rng: inout RandomGenerator) {
        conv = Conv2d(dim, dimOut ?? dim, kernelSize: 3, padding: 1, rng: &rng)
    }

    public override func parameterName(for property: String) -> String { property == "conv" ? "1" : super.parameterName(for: property) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv(x.upsampleNearest(scale: 2))                                 // [B, dimOut, 2H, 2W]
    }
}

/// The MindSpore port's learned upsampling: a transposed conv with kernel 4, stride 2, padding 1,
/// out = (H − 1)·2 − 2·1 + 4 = 2H. Its weight is `[dim, dimOut, 4, 4]` (in, out: PyTorch's layout).
public func transposedUpsample(_ dim: Int, _ dimOut: Int? = nil, rng: inout RandomGenerator) -> ConvTranspose2d {
    ConvTranspose2d(dim, dimOut ?? dim, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
}

/// The TwoResUNet article's `DownSample` and `Upsample` keep their `nn.Sequential` in an
/// attribute `self.net`, so the same layers as `Downsample` / `Upsample` are named with a
/// `net.` prefix there: `downs.0.2.net.1.weight`. This wrapper adds it.
public final class NetWrapper: Module, UNetLayer {
    public let net: any UNetLayer

    public init(_ net: any UNetLayer) { self.net = net }

    public func callAsFunction(_ x: Tensor) -> Tensor { net(x) }
}
