import TinyTensor

/// One resolution level of the U-Net: two time-conditioned blocks, linear attention, then a
/// resampling layer (or a 3×3 conv at the last level). PyTorch holds it as an `nn.ModuleList`
/// of four entries, so the children are named `0`, `1`, `2`, `3`: `downs.0.1.block2.proj.weight`.
public final class UNetStage: Module {
    public let block1: any TimeConditionedBlock
    public let block2: any TimeConditionedBlock
    public let attention: any UNetLayer          // Residual(PreNorm(LinearAttention))
    public let resample: any UNetLayer           // Downsample / Upsample / ConvTranspose2d / Conv2d

    init(_ block1: any TimeConditionedBlock, _ block2: any TimeConditionedBlock,
         _ attention: any UNetLayer, _ resample: any UNetLayer) {
        (self.block1, self.block2, self.attention, self.resample) = (block1, block2, attention, resample)
    }

    public override func parameterName(for property: String) -> String {
        ["block1": "0", "block2": "1", "attention": "2", "resample": "3"][property] ?? super.parameterName(for: property)
    }
}

/// The noise-prediction network ε_θ(x_t, t) of the Annotated Diffusion Model: a U-Net
/// (Ronneberger et al. 2015) with time-conditioned residual blocks, linear attention at every
/// level and full attention in the middle, as in DDPM (Ho et al. 2020, Appendix B).
///
///     x [B, channels, H, W], t [B] ──► ε̂ [B, outDim, H, W]
///
///     init_conv 1×1 ─► r ───────────────────────────────────────────────┐ (concat)
///     downs: per level  block1 ─► (skip) block2 ─► attn ─► (skip) ─► downsample
///     mid:   block1 ─► full attention ─► block2
///     ups:   per level  cat(skip) block1 ─► cat(skip) block2 ─► attn ─► upsample
///     final_res_block(cat(x, r)) ─► final_conv 1×1
///
/// The time t goes through sinusoidal embeddings and an MLP (`time_mlp`) into every block.
/// Channel widths: `dims = [initDim, dim·m for m in dimMults]`; H and W halve at each level but
/// the last, so the image side must be divisible by 2^(levels − 1) (28 → 14 → 7 for (1, 2, 4)).
/// State-dict names follow the PyTorch reference exactly (`init_conv.weight`, `time_mlp.1.weight`,
/// `downs.0.0.block1.proj.weight`, `downs.0.2.fn.fn.to_qkv.weight`, `mid_attn.fn.fn.to_out.weight`).
public final class Unet: Module, DenoisingUNet {
    /// Which block makes up the levels: the Annotated ResNet block or the MindSpore ConvNeXt block.
    public enum BlockKind: Equatable { case resnet, convNext(mult: Int) }
    /// How the decoder doubles H and W: nearest + 3×3 conv (Annotated) or a transposed conv (MindSpore).
    public enum UpsampleKind: Equatable { case nearest, transposed }

    // Properties in the PyTorch registration order, so names come out in state_dict order.
    public let initConv: Conv2d
    public let timeMlp: Sequential               // SinusoidalPositionEmbeddings, Linear, GELU, Linear
    /// Class conditioning (Chapter 8): one learned vector per class plus a "no class" vector,
    /// added to the time embedding (improved-diffusion's `label_emb`). nil: unconditional.
    public let labelEmb: Embedding?
    public let downs: [UNetStage]
    public let ups: [UNetStage]
    public let midBlock1: any TimeConditionedBlock
    public let midAttn: Residual                 // Residual(PreNorm(Attention))
    public let midBlock2: any TimeConditionedBlock
    public let finalResBlock: any TimeConditionedBlock
    public let finalConv: Conv2d

    public let channels: Int
    public let selfCondition: Bool
    public let outDim: Int
    /// The number of classes of a class-conditional U-Net (nil: unconditional); label
    /// `numClasses` is the null class, "no label", that classifier-free guidance needs.
    public let numClasses: Int?
    /// How many times the image side is halved on the way down (one less than the levels).
    public var downsamplings: Int { downs.count - 1 }

    public init(dim: Int, initDim: Int? = nil, outDim: Int? = nil, dimMults: [Int] = [1, 2, 4, 8],
                channels: Int = 3, selfCondition: Bool = false, resnetBlockGroups: Int = 4,
                block: BlockKind = .resnet, upsample: UpsampleKind = .nearest,
                fullAttentionAtEveryLevel: Bool = false, numClasses: Int? = nil, rng: inout RandomGenerator) {
        precondition(numClasses.map { $0 >= 1 } ?? true, "Unet: numClasses must be at least 1")
        self.channels = channels
        self.numClasses = numClasses
        self.selfCondition = selfCondition
        let inputChannels = channels * (selfCondition ? 2 : 1)
        let initDim = initDim ?? dim
        initConv = Conv2d(inputChannels, initDim, kernelSize: 1, rng: &rng)

        let dims = [initDim] + dimMults.map { dim * $0 }
        let inOut = Array(zip(dims.dropLast(), dims.dropFirst()))
        let timeDim = dim * 4
        func makeBlock(_ a: Int, _ b: Int, _ rng: inout RandomGenerator) -> any TimeConditionedBlock {
            switch block {
            case .resnet: return ResnetBlock(a, b, timeEmbDim: timeDim, groups: resnetBlockGroups, rng: &rng)
            case .convNext(let mult): return ConvNextBlock(a, b, timeEmbDim: timeDim, mult: mult, rng: &rng)
            }
        }

        let embedding = SinusoidalPositionEmbeddings(dim)
        let linear1 = Linear(dim, timeDim, rng: &rng), gelu = Activation(.gelu), linear2 = Linear(timeDim, timeDim, rng: &rng)
        timeMlp = Sequential(embedding, linear1, gelu, linear2)

        // Linear attention at every level (the post's), or full softmax attention (an experiment:
        // at 28×28 it forms a 784×784 matrix per head and image).
        func levelAttention(_ channels: Int, _ rng: inout RandomGenerator) -> any UNetLayer {
            fullAttentionAtEveryLevel ? Residual(PreNorm(channels, Attention(channels, rng: &rng)))
                                      : Residual(PreNorm(channels, LinearAttention(channels, rng: &rng)))
        }

        var downs: [UNetStage] = []
        for (index, (dimIn, dimOut)) in inOut.enumerated() {
            let isLast = index >= inOut.count - 1
            let b1 = makeBlock(dimIn, dimIn, &rng), b2 = makeBlock(dimIn, dimIn, &rng)
            let attention = levelAttention(dimIn, &rng)
            let resample: any UNetLayer = isLast
                ? Conv2d(dimIn, dimOut, kernelSize: 3, padding: 1, rng: &rng)
                : Downsample(dimIn, dimOut, rng: &rng)
            downs.append(UNetStage(b1, b2, attention, resample))
        }
        self.downs = downs

        let midDim = dims.last!
        midBlock1 = makeBlock(midDim, midDim, &rng)
        midAttn = Residual(PreNorm(midDim, Attention(midDim, rng: &rng)))
        midBlock2 = makeBlock(midDim, midDim, &rng)

        var ups: [UNetStage] = []
        for (index, (dimIn, dimOut)) in inOut.reversed().enumerated() {
            let isLast = index == inOut.count - 1
            let b1 = makeBlock(dimOut + dimIn, dimOut, &rng), b2 = makeBlock(dimOut + dimIn, dimOut, &rng)
            let attention = levelAttention(dimOut, &rng)
            let resample: any UNetLayer
            if isLast {
                resample = Conv2d(dimOut, dimIn, kernelSize: 3, padding: 1, rng: &rng)
            } else if upsample == .transposed {
                resample = transposedUpsample(dimOut, dimIn, rng: &rng)
            } else {
                resample = Upsample(dimOut, dimIn, rng: &rng)
            }
            ups.append(UNetStage(b1, b2, attention, resample))
        }
        self.ups = ups

        self.outDim = outDim ?? channels
        finalResBlock = makeBlock(dim * 2, dim, &rng)
        finalConv = Conv2d(dim, self.outDim, kernelSize: 1, rng: &rng)
        // Drawn last, so every other weight is the same as the unconditional model's of that seed.
        labelEmb = numClasses.map { Embedding($0 + 1, timeDim, rng: &rng) }
    }

    /// ε̂ = ε_θ(x, t). x: `[B, channels, H, W]`, time: `[B]` (the step index as a float).
    public func callAsFunction(_ x: Tensor, _ time: Tensor) -> Tensor {
        forward(x, time, selfCondition: nil, observe: nil)
    }

    /// ε̂ = ε_θ(x, t) with self-conditioning: selfCondition is an earlier x̂₀ `[B, channels, H, W]`
    /// (zeros if nil; only with `selfCondition`).
    public func callAsFunction(_ x: Tensor, _ time: Tensor, selfCondition xSelfCond: Tensor?) -> Tensor {
        forward(x, time, selfCondition: xSelfCond, observe: nil)
    }

    public func forward(_ x: Tensor, _ time: Tensor, observe: ((String, Tensor) -> Void)?) -> Tensor {
        forward(x, time, selfCondition: nil, observe: observe)
    }

    /// ε̂ = ε_θ(x, t, y) of a class-conditional U-Net: one label per image, each in
    /// 0..<numClasses, or `numClasses` for "no label" (the unconditional prediction).
    public func callAsFunction(_ x: Tensor, _ time: Tensor, labels: [Int]) -> Tensor {
        forward(x, time, selfCondition: nil, labels: labels, observe: nil)
    }

    /// The forward pass; `observe(path, tensor)` (if given) sees the output of every top-level
    /// step under its module path (`init_conv`, `downs.0.0`, ..., `final_conv`), for summaries
    /// and feature-map figures.
    public func predictNoise(_ x: Tensor, _ t: [Int], labels: [Int]? = nil) -> Tensor {
        forward(x, Tensor(t.map(Float.init)), selfCondition: nil, labels: labels, observe: nil)
    }

    /// A class-conditional U-Net called without `labels` predicts with the null class.
    public func forward(_ input: Tensor, _ time: Tensor, selfCondition xSelfCond: Tensor?, labels: [Int]? = nil,
                        observe: ((String, Tensor) -> Void)?) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels,
                     "Unet: expected input [B, \(channels), H, W], got \(input.shape)")
        precondition(time.count == input.shape[0], "Unet: \(time.count) time steps for a batch of \(input.shape[0])")
        let see = observe ?? { _, _ in }
        var x = input
        if selfCondition {
            let cond = xSelfCond ?? Tensor.zeros(x.shape)                 // [B, channels, H, W]
            x = Tensor.concat([cond, x], axis: 1)                         // [B, 2·channels, H, W]
        }
        x = initConv(x); see("init_conv", x)                              // [B, initDim, H, W]
        let r = x
        var t = timeMlp(time); see("time_mlp", t)                         // [B, 4·dim]
        if let labelEmb, let numClasses {
            let y = labels ?? Array(repeating: numClasses, count: input.shape[0])
            precondition(y.count == input.shape[0] && y.allSatisfy { $0 >= 0 && $0 <= numClasses },
                         "Unet: expected \(input.shape[0]) labels in 0...\(numClasses), got \(y)")
            t = t + labelEmb(y); see("label_emb", t)                       // [B, 4·dim]
        } else {
            precondition(labels == nil, "Unet: labels given to an unconditional U-Net (build it with numClasses)")
        }

        var skips: [Tensor] = []
        for (i, stage) in downs.enumerated() {
            x = stage.block1(x, t); see("downs.\(i).0", x)                // [B, dimIn, H, W]
            skips.append(x)
            x = stage.block2(x, t); see("downs.\(i).1", x)
            x = stage.attention(x); see("downs.\(i).2", x)
            skips.append(x)
            x = stage.resample(x); see("downs.\(i).3", x)                 // [B, dimOut, H/2, W/2]
        }

        x = midBlock1(x, t); see("mid_block1", x)                         // [B, midDim, h, w]
        x = midAttn(x); see("mid_attn", x)
        x = midBlock2(x, t); see("mid_block2", x)

        for (i, stage) in ups.enumerated() {
            x = Tensor.concat([x, skips.removeLast()], axis: 1)           // [B, dimOut + dimIn, h, w]
            x = stage.block1(x, t); see("ups.\(i).0", x)                  // [B, dimOut, h, w]
            x = Tensor.concat([x, skips.removeLast()], axis: 1)
            x = stage.block2(x, t); see("ups.\(i).1", x)
            x = stage.attention(x); see("ups.\(i).2", x)
            x = stage.resample(x); see("ups.\(i).3", x)                   // [B, dimIn, 2h, 2w]
        }

        x = Tensor.concat([x, r], axis: 1)                                // [B, 2·dim, H, W]
        x = finalResBlock(x, t); see("final_res_block", x)                // [B, dim, H, W]
        x = finalConv(x); see("final_conv", x)                            // [B, outDim, H, W]
        return x
    }
}
