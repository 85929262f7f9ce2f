import TinyTensor

/// The U-Net of the MindSpore port of "The Annotated Diffusion Model" (seeds/000, "Conditional
/// U-Net"), which is the post's first version: Phil Wang's ConvNeXt U-Net of mid-2022. Built as
/// the port builds it, with MindSpore's defaults written out, under the names a PyTorch port
/// of it has (Tests/DiffusionTests/Fixtures/make_seed_unets_fixture.py):
///
///     x [B, channels, H, W], t [B] ──► ε̂ [B, outDim, H, W]
///
///     init_conv 7×7 (dim // 3 · 2 channels)
///     downs: per level  ConvNeXt(dimIn → dimOut) ─► ConvNeXt(dimOut → dimOut) ─► attn ─► (skip)
///                       ─► Conv 4×4 stride 2 (Identity at the last level)
///     mid:   ConvNeXt ─► full attention ─► ConvNeXt
///     ups:   per level of in_out[1:], deepest first:  cat(skip) ─► ConvNeXt(2·dimOut → dimIn)
///                       ─► ConvNeXt(dimIn → dimIn) ─► attn ─► ConvTranspose 4×4 stride 2
///     final_conv: ConvNeXt(dim → dim, no time) ─► Conv 1×1
///
/// One skip per level, kept after the attention; the up path runs over `in_out[1:]`, so it has
/// one level fewer than the down path and the first level's skip is never used (in the seed:
/// `len_h` counts down from the last skip and stops at index 1). Every up level upsamples (its
/// `is_last` test can never be true), which brings the image back to full size.
///
/// MindSpore's defaults, kept: `nn.Conv2d` and `nn.Conv2dTranspose` have no bias unless the
/// code says `has_bias=True` (only `init_conv` and the attention output convs do), and
/// `nn.GELU()` is the tanh approximation. `attn` is Residual(PreNorm(LinearAttention)) with the
/// port's own LinearAttention (v / (h·w), a channel LayerNorm at the end); the middle attention
/// and the time MLP (Sinusoidal → Dense → GELU → Dense) are the Annotated ones.
///
/// PyTorch names: `init_conv.weight`, `time_mlp.1.weight`, `downs.0.0.ds_conv.weight`,
/// `downs.0.2.fn.fn.to_out.1.g`, `downs.0.3.weight`, `mid_attn.fn.fn.to_qkv.weight`,
/// `ups.0.3.weight` ([in, out, 4, 4]), `final_conv.0.net.1.weight`, `final_conv.1.weight`.
public final class MindSporeUnet: Module, DenoisingUNet {
    // Properties in the PyTorch registration order, so names come out in state_dict order.
    public let initConv: Conv2d                  // 7×7, with bias
    public let timeMlp: Sequential               // SinusoidalPositionEmbeddings, Linear, GELU (tanh), Linear
    public let downs: [UNetStage]
    public let ups: [UNetStage]
    public let midBlock1: ConvNextBlock
    public let midAttn: Residual                 // Residual(PreNorm(Attention))
    public let midBlock2: ConvNextBlock
    public let finalConv: Sequential             // ConvNextBlock(dim, dim) without time, Conv2d 1×1
    /// The two entries of `finalConv` (computed, so they are named only there).
    public var finalBlock: ConvNextBlock { (finalConv.layers[0] as! WithoutTime).block as! ConvNextBlock }
    public var finalProjection: Conv2d { finalConv.layers[1] as! Conv2d }

    public let channels: Int
    public let outDim: Int
    public var downsamplings: Int { downs.count - 1 }

    public init(dim: Int, initDim: Int? = nil, outDim: Int? = nil, dimMults: [Int] = [1, 2, 4, 8],
                channels: Int = 3, convnextMult: Int = 2, rng: inout RandomGenerator) {
        precondition(dimMults.count >= 2, "MindSporeUnet: needs at least two levels (its up path has one fewer), got \(dimMults)")
        self.channels = channels
        let initDim = initDim ?? dim / 3 * 2
        initConv = Conv2d(channels, initDim, kernelSize: 7, padding: 3, rng: &rng)

        let dims = [initDim] + dimMults.map { dim * $0 }
        let inOut = Array(zip(dims.dropLast(), dims.dropFirst()))
        let timeDim = dim * 4
        func block(_ a: Int, _ b: Int, time: Bool = true, _ rng: inout RandomGenerator) -> ConvNextBlock {
            ConvNextBlock(a, b, timeEmbDim: time ? timeDim : nil, mult: convnextMult, bias: false, gelu: .geluTanh, rng: &rng)
        }
        func attention(_ d: Int, _ rng: inout RandomGenerator) -> Residual {
            Residual(PreNorm(d, LinearAttention(d, variant: .mindSpore, rng: &rng)))
        }

        let embedding = SinusoidalPositionEmbeddings(dim)
        let linear1 = Linear(dim, timeDim, rng: &rng), gelu = Activation(.geluTanh), linear2 = Linear(timeDim, timeDim, rng: &rng)
        timeMlp = Sequential(embedding, linear1, gelu, linear2)

        var downs: [UNetStage] = []
        for (index, (dimIn, dimOut)) in inOut.enumerated() {
            let isLast = index >= inOut.count - 1
            let b1 = block(dimIn, dimOut, &rng), b2 = block(dimOut, dimOut, &rng)
            let attn = attention(dimOut, &rng)
            let resample: any UNetLayer = isLast
                ? IdentityLayer()
                : Conv2d(dimOut, dimOut, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
            downs.append(UNetStage(b1, b2, attn, resample))
        }
        self.downs = downs

        let midDim = dims.last!
        midBlock1 = block(midDim, midDim, &rng)
        midAttn = Residual(PreNorm(midDim, Attention(midDim, rng: &rng)))
        midBlock2 = block(midDim, midDim, &rng)

        var ups: [UNetStage] = []
        for (dimIn, dimOut) in inOut.dropFirst().reversed() {
            let b1 = block(dimOut * 2, dimIn, &rng), b2 = block(dimIn, dimIn, &rng)
            let attn = attention(dimIn, &rng)
            let resample = ConvTranspose2d(dimIn, dimIn, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
            ups.append(UNetStage(b1, b2, attn, resample))
        }
        self.ups = ups

        self.outDim = outDim ?? channels
        let finalBlock = block(dim, dim, time: false, &rng)
        let projection = Conv2d(dim, self.outDim, kernelSize: 1, bias: false, rng: &rng)
        finalConv = Sequential(WithoutTime(finalBlock), projection)
    }

    public func callAsFunction(_ x: Tensor, _ time: Tensor) -> Tensor { forward(x, time, observe: nil) }

    public func forward(_ input: Tensor, _ time: Tensor, observe: ((String, Tensor) -> Void)?) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels,
                     "MindSporeUnet: expected input [B, \(channels), H, W], got \(input.shape)")
        precondition(time.count == input.shape[0], "MindSporeUnet: \(time.count) time steps for a batch of \(input.shape[0])")
        let see = observe ?? { _, _ in }
        var x = initConv(input); see("init_conv", x)                      // [B, initDim, H, W]
        let t = timeMlp(time); see("time_mlp", t)                         // [B, 4·dim]

        var skips: [Tensor] = []
        for (i, stage) in downs.enumerated() {
            x = stage.block1(x, t); see("downs.\(i).0", x)                // [B, dimOut, h, w]
            x = stage.block2(x, t); see("downs.\(i).1", x)
            x = stage.attention(x); see("downs.\(i).2", x)
            skips.append(x)                                               // one skip per level
            x = stage.resample(x); see("downs.\(i).3", x)                 // [B, dimOut, h/2, w/2] (last: h, w)
        }

        x = midBlock1(x, t); see("mid_block1", x)                         // [B, midDim, h, w]
        x = midAttn(x); see("mid_attn", x)
        x = midBlock2(x, t); see("mid_block2", x)

        for (i, stage) in ups.enumerated() {
            let skip = skips[skips.count - 1 - i]                         // the deepest first; skips[0] is never used
            x = Tensor.concat([x, skip], axis: 1)                         // [B, 2·dimOut, h, w]
            x = stage.block1(x, t); see("ups.\(i).0", x)                  // [B, dimIn, h, w]
            x = stage.block2(x, t); see("ups.\(i).1", x)
            x = stage.attention(x); see("ups.\(i).2", x)
            x = stage.resample(x); see("ups.\(i).3", x)                   // [B, dimIn, 2h, 2w]
        }

        x = finalBlock(x, nil); see("final_conv.0", x)                    // [B, dim, H, W]
        x = finalProjection(x); see("final_conv.1", x)                    // [B, outDim, H, W]
        return x
    }
}
