import TinyTensor

/// One resolution level of `TwoResUNet`: two ConvNeXt blocks, then a resampling layer. PyTorch
/// holds it as an `nn.ModuleList`: `0`, `1`, `2`; with the attention gate, the gate comes first
/// and the rest move up one: `0` (gate), `1`, `2`, `3`.
public final class TwoResStage: Module {
    public let gate: BlockAttention?
    public let block1: ConvNextBlock
    public let block2: ConvNextBlock
    public let resample: any UNetLayer           // DownSample / Upsample / Conv2d 3×3

    init(gate: BlockAttention?, _ block1: ConvNextBlock, _ block2: ConvNextBlock, _ resample: any UNetLayer) {
        (self.gate, self.block1, self.block2, self.resample) = (gate, block1, block2, resample)
    }

    public override func parameterName(for property: String) -> String {
        let index = ["gate": 0, "block1": 1, "block2": 2, "resample": 3][property]
        return index.map { "\($0 - (gate == nil ? 1 : 0))" } ?? super.parameterName(for: property)
    }
}

/// The "TwoResUNet" of "DDPM from scratch in PyTorch" (seeds/002, "Final Integration"): the
/// Annotated U-Net's skeleton with ConvNeXt blocks and without attention, every level keeping
/// two skips ("Each block contains two residual connections instead of one"):
///
///     x [B, channels, H, W], t [B] ──► ε̂ [B, outDim, H, W]
///
///     init_conv 7×7 ─► r ──────────────────────────────────────────────────┐ (concat)
///     downs: per level  ConvNeXt ─► (skip) ConvNeXt ─► (skip) ─► DownSample  (last: Conv 3×3)
///     mid:   ConvNeXt ─► ConvNeXt
///     ups:   per level  cat(skip) ConvNeXt ─► cat(skip) ConvNeXt ─► Upsample (last: Conv 3×3)
///     final_res_block(cat(x, r)) ─► final_conv 1×1
///
/// The blocks are `ConvNextBlock` with biases and exact GELU under the article's names
/// (`in_conv`, `block`, `residual_conv`); DownSample is pixel-unshuffle + 1×1 conv and Upsample
/// nearest ×2 + 3×3 conv, held in `self.net` (`downs.0.2.net.1.weight`). The time MLP is
/// Sinusoidal(θ = 10000) → Linear → GELU → Linear, the Annotated one.
///
/// `attentionGate: true` adds the article's optional `BlockAttention` at every decoder level,
/// applied to both of its skips before they are concatenated, with the decoder's current x as
/// the gate (the article defines the gate but leaves it out of its U-Net; this wiring follows
/// its description of gate and residual).
///
/// The article's final concat needs `initDim == dim` (its `final_res_block` takes `dim * 2`).
public final class TwoResUNet: Module, DenoisingUNet {
    // Properties in the PyTorch registration order, so names come out in state_dict order.
    public let initConv: Conv2d                  // 7×7
    public let timeMlp: Sequential               // SinusoidalPosEmb, Linear, GELU, Linear
    public let downs: [TwoResStage]
    public let ups: [TwoResStage]
    public let midBlock1: ConvNextBlock
    public let midBlock2: ConvNextBlock
    public let finalResBlock: ConvNextBlock
    public let finalConv: Conv2d

    public let channels: Int
    public let outDim: Int
    public var downsamplings: Int { downs.count - 1 }

    public init(dim: Int, initDim: Int? = nil, outDim: Int? = nil, dimMults: [Int] = [1, 2, 4, 8],
                channels: Int = 3, attentionGate: Bool = false, rng: inout RandomGenerator) {
        precondition(initDim == nil || initDim == dim,
                     "TwoResUNet: the final concat needs initDim == dim (\(dim)), got \(initDim!)")
        self.channels = channels
        initConv = Conv2d(channels, dim, kernelSize: 7, padding: 3, rng: &rng)

        let dims = [dim] + dimMults.map { dim * $0 }
        let inOut = Array(zip(dims.dropLast(), dims.dropFirst()))
        let timeDim = dim * 4
        func block(_ a: Int, _ b: Int, _ rng: inout RandomGenerator) -> ConvNextBlock {
            ConvNextBlock(a, b, timeEmbDim: timeDim, naming: .twoResUNet, rng: &rng)
        }

        let embedding = SinusoidalPositionEmbeddings(dim)               // θ = 10000
        let linear1 = Linear(dim, timeDim, rng: &rng), gelu = Activation(.gelu), linear2 = Linear(timeDim, timeDim, rng: &rng)
        timeMlp = Sequential(embedding, linear1, gelu, linear2)

        var downs: [TwoResStage] = []
        for (index, (dimIn, dimOut)) in inOut.enumerated() {
            let isLast = index >= inOut.count - 1
            let b1 = block(dimIn, dimIn, &rng), b2 = block(dimIn, dimIn, &rng)
            let resample: any UNetLayer = isLast
                ? Conv2d(dimIn, dimOut, kernelSize: 3, padding: 1, rng: &rng)
                : NetWrapper(Downsample(dimIn, dimOut, rng: &rng))
            downs.append(TwoResStage(gate: nil, b1, b2, resample))
        }
        self.downs = downs

        let midDim = dims.last!
        midBlock1 = block(midDim, midDim, &rng)
        midBlock2 = block(midDim, midDim, &rng)

        var ups: [TwoResStage] = []
        for (index, (dimIn, dimOut)) in inOut.reversed().enumerated() {
            let isLast = index == inOut.count - 1
            let gate = attentionGate ? BlockAttention(gateChannels: dimOut, residualChannels: dimIn, rng: &rng) : nil
            let b1 = block(dimOut + dimIn, dimOut, &rng), b2 = block(dimOut + dimIn, dimOut, &rng)
            let resample: any UNetLayer = isLast
                ? Conv2d(dimOut, dimIn, kernelSize: 3, padding: 1, rng: &rng)
                : NetWrapper(Upsample(dimOut, dimIn, rng: &rng))
            ups.append(TwoResStage(gate: gate, b1, b2, resample))
        }
        self.ups = ups

        self.outDim = outDim ?? channels
        finalResBlock = block(dim * 2, dim, &rng)
        finalConv = Conv2d(dim, self.outDim, kernelSize: 1, rng: &rng)
    }

    public func callAsFunction(_ x: Tensor, _ time: Tensor) -> Tensor { forward(x, time, observe: nil) }

    public func forward(_ input: Tensor, _ time: Tensor, observe: ((String, Tensor) -> Void)?) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels,
                     "TwoResUNet: expected input [B, \(channels), H, W], got \(input.shape)")
        precondition(time.count == input.shape[0], "TwoResUNet: \(time.count) time steps for a batch of \(input.shape[0])")
        let see = observe ?? { _, _ in }
        var x = initConv(input); see("init_conv", x)                      // [B, dim, H, W]
        let r = x
        let t = timeMlp(time); see("time_mlp", t)                         // [B, 4·dim]

        var skips: [Tensor] = []
        for (i, stage) in downs.enumerated() {
            x = stage.block1(x, t); see("downs.\(i).0", x)                // [B, dimIn, h, w]
            skips.append(x)
            x = stage.block2(x, t); see("downs.\(i).1", x)
            skips.append(x)
            x = stage.resample(x); see("downs.\(i).2", x)                 // [B, dimOut, h/2, w/2] (last: h, w)
        }

        x = midBlock1(x, t); see("mid_block1", x)                         // [B, midDim, h, w]
        x = midBlock2(x, t); see("mid_block2", x)

        for (i, stage) in ups.enumerated() {
            let offset = stage.gate == nil ? 0 : 1                        // module index of block1
            for (k, block) in [stage.block1, stage.block2].enumerated() {
                var skip = skips.removeLast()                             // [B, dimIn, h, w]
                if let gate = stage.gate {
                    skip = gate(skip, gate: x)                            // [B, dimIn, h, w], weighted
                    if k == 0 { see("ups.\(i).0", skip) }
                }
                x = Tensor.concat([x, skip], axis: 1)                     // [B, dimOut + dimIn, h, w]
                x = block(x, t); see("ups.\(i).\(k + offset)", x)         // [B, dimOut, h, w]
            }
            x = stage.resample(x); see("ups.\(i).\(2 + offset)", x)       // [B, dimIn, 2h, 2w] (last: h, w)
        }

        x = Tensor.concat([x, r], axis: 1)                                // [B, 2·dim, H, W]
        x = finalResBlock(x, t); see("final_res_block", x)                // [B, dim, H, W]
        x = finalConv(x); see("final_conv", x)                            // [B, outDim, H, W]
        return x
    }
}
