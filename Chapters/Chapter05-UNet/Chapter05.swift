// Chapter 5 — The U-Net, block by block.
//
// The denoiser of Chapter 4 was an MLP on two numbers. Images need a network that sees
// neighbourhoods at several scales and returns an image of the same size: ε̂ = ε_θ(x_t, t).
// DDPM (Ho et al. 2020, Appendix B) uses a U-Net (Ronneberger et al. 2015); we build the one
// of "The Annotated Diffusion Model" (Hugging Face), Phil Wang's version, for Fashion-MNIST:
//
//     Unet(dim: 28, dimMults: [1, 2, 4], channels: 1)     2,020,257 parameters, as in PyTorch
//
// It is made of the blocks in Sources/Diffusion/Models/UNet/, one file each:
//   SinusoidalPositionEmbeddings  t → [sin(t·ωᵢ), cos(t·ωᵢ)]   then an MLP (time_mlp)
//   ResnetBlock                   two (weight-standardised conv → GroupNorm → SiLU) blocks;
//                                 the time embedding scales and shifts the first one
//   LinearAttention / Attention   pixels look at each other: linear cost at every level,
//                                 full softmax attention only in the 7×7 middle
//   PreNorm, Residual             GroupNorm before attention, a skip connection around it
//   Downsample / Upsample         pixel-unshuffle + 1×1 conv;  nearest ×2 + 3×3 conv
// and, as an option (--block convnext), a variant of this same skeleton with ConvNeXt blocks
// and transposed-conv upsampling: lucidrains' ConvNeXt block in the Annotated layout. It is
// neither of the two other sources' U-Nets; those are --model mindspore and --model tworesunet.
//
// Two other sources define their own U-Net, built here too, exactly as they write it
// (`--model`; Sources/Diffusion/Models/UNet/MindSporeUnet.swift and TwoResUNet.swift):
//   mindspore   the MindSpore port (the post's first version): a 7×7 init conv to dim // 3 · 2
//               channels, ConvNeXt blocks, one skip per level, 4×4 strided convs down and
//               transposed convs up, MindSpore's bias-free convs and tanh GELU   2,992,180 parameters
//   tworesunet  "DDPM from scratch in PyTorch": ConvNeXt blocks, two skips per level, no
//               attention, pixel-unshuffle down and nearest + conv up          3,184,217 parameters
//
// This chapter prints the model summary, draws the time embedding and the first-level feature
// maps of a real Fashion-MNIST image, and checks that the whole network can learn: a few
// Adam steps on ONE fixed batch of noisy images must drive the loss down (the "overfit one
// batch" sanity check). Real training is Chapter 6. The weights go to unet.safetensors, which
// loads into the PyTorch reference with load_state_dict(strict=True):
//
//     python3 Tests/DiffusionTests/Fixtures/make_unet_fixture.py --check output/Chapter05-UNet/unet.safetensors
//
// Run:  swift run -c release Chapter05-UNet           (ConvNeXt variant: --block convnext;
//                                                      the other U-Nets: --model mindspore | tworesunet)
//
// This file is the lesson; the options and their checks are in Command.swift, the figures in Figures.swift.

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter05 {
    /// The parameter counts of the PyTorch references, printed by make_unet_fixture.py and
    /// make_seed_unets_fixture.py: the Annotated model (and its ConvNeXt variant with
    /// transposed-conv upsampling), the MindSpore port's and TwoResUNet.
    static let pytorchParameterCount = ["annotated": 2_020_257, "annotated/convnext": 3_454_669,
                                        "mindspore": 2_992_180, "tworesunet": 3_184_217]
    /// Diffusion steps of the Annotated blog's linear schedule (β from 1e-4 to 0.02).
    static let timesteps = 300

    /// The lesson, top to bottom (the options are declared in Command.swift, which checks them,
    /// reads the first `batchSize` Fashion-MNIST training images and parses --model and --dim-mults).
    func lesson(_ out: OutputFolder, data: FashionMNIST, architecture: UNetArchitecture, mults: [Int]) throws {
        var rng = RandomGenerator(seed: common.seed)

        // MARK: 1. Build the model and print its summary
        //
        // dims = [28, 28, 56, 112]: the channel width of each level (the MindSpore port starts
        // at 28 // 3 · 2 = 18). The image side halves at every level but the last (28 → 14 → 7),
        // so 28 admits exactly two downsamplings. The time embedding is 4·dim = 112 wide and
        // reaches every block.
        func makeModel(_ rng: inout RandomGenerator) -> any DenoisingUNet {
            architecture.make(dim: 28, dimMults: mults, channels: 1, convNext: block == "convnext",
                              fullAttentionAtEveryLevel: levelAttention == "full", rng: &rng)
        }
        let model = makeModel(&rng)
        try checkImageSize(model)                        // a third halving of 28 × 28 stops here
        let title: String
        switch architecture {
        case .annotated: title = "Unet(dim: 28, dimMults: \(mults), channels: 1, block: \(block)"
            + (levelAttention == "full" ? ", full attention at every level)" : ")")
        case .mindspore: title = "MindSporeUnet(dim: 28, dimMults: \(mults), channels: 1)"
        case .tworesunet: title = "TwoResUNet(dim: 28, dimMults: \(mults), channels: 1)"
        }
        print("\(title) for a [\(batchSize), 1, 28, 28] batch\n")
        print("module path        output shape        parameters")
        let rows = model.summary(inputShape: [batchSize, 1, 28, 28])
        for row in rows {
            print(row.path.padding(toLength: 18, withPad: " ", startingAt: 0),
                  "\(row.outputShape)".padding(toLength: 19, withPad: " ", startingAt: 0),
                  grouped(row.parameters).leftPadded(10))
        }
        let total = model.parameterCount
        print("total".padding(toLength: 38, withPad: " ", startingAt: 0), grouped(total).leftPadded(10))
        let key = architecture == .annotated && block == "convnext" ? "annotated/convnext" : architecture.rawValue
        let script = architecture == .annotated ? "make_unet_fixture.py" : "make_seed_unets_fixture.py"
        if let reference = Chapter05.pytorchParameterCount[key], mults == [1, 2, 4], levelAttention == "linear" {
            print("PyTorch reference (\(script)): \(grouped(reference)) parameters — "
                  + (total == reference ? "equal" : "DIFFERENT"))
        }
        // The spatial path through the U, read off the summary: the input layer, the last layer
        // of each level (its resampling), the middle, the output.
        let ends = rows.indices.filter { i in
            let path = rows[i].path
            if path == "init_conv" || path == "mid_block2" || i == rows.count - 1 { return true }
            let parts = path.split(separator: ".")
            guard parts.count == 3, ["downs", "ups"].contains(parts[0]) else { return false }
            return i + 1 == rows.count || !rows[i + 1].path.hasPrefix("\(parts[0]).\(parts[1]).")
        }
        let path = ends.map { rows[$0].outputShape }.map { "\($0[1])×\($0[2])×\($0[3])" }
        print("C×H×W at init_conv, each level's last layer (downs, mid, ups), \(rows.last!.path):\n"
              + "  \(path.joined(separator: " → "))")

        // MARK: 2. The sinusoidal time embedding
        //
        // Row t of the heat map is emb(t) = [sin(t·ωᵢ) | cos(t·ωᵢ)], ωᵢ = 10000^(−i/13), i = 0 … 13.
        // The left columns of each half oscillate fast (ω₀ = 1 rad per step), the right ones
        // barely move over 300 steps: together they give every t a distinct, smooth code.
        let embedding = SinusoidalPositionEmbeddings(28)
        let table = embedding(Tensor((0..<Chapter05.timesteps).map(Float.init)))    // [300, 28]
        try embeddingFigure(table).writePNG(to: out.file("time_embedding.png"))
        print("\nwrote \(out.display("time_embedding.png"))")

        // MARK: 3. One fixed batch of noisy Fashion-MNIST images
        //
        // The forward process in closed form (Chapter 3, `qSample`), with the Annotated blog's
        // linear schedule of T = 300 steps:  x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε.
        // Images, noise ε and steps t are drawn once, from their own generator (so every model
        // and option sees the same batch), and kept for every training step.
        let diffusion = GaussianDiffusion(schedule: try NoiseSchedule(.linear, timesteps: Chapter05.timesteps))
        var batchRng = RandomGenerator(seed: common.seed &+ 2)
        let x0 = data.images(Array(0..<batchSize))                                 // [B, 1, 28, 28] in [−1, 1]
        let noise = Tensor.randn(x0.shape, using: &batchRng)                       // [B, 1, 28, 28]
        let t = batchRng.integers(count: batchSize, below: Chapter05.timesteps)    // B steps in 0 ..< 300
        let xt = diffusion.qSample(x0, t: t, noise: noise)                         // [B, 1, 28, 28]
        let timeInput = Tensor(t.map(Float.init))                                  // [B]
        let epsTheta: NoisePredictor = { x, steps in model(x, Tensor(steps.map(Float.init))) }
        let classes = data.labels.prefix(batchSize).map { FashionMNIST.classNames[Int($0)] }
        print("batch: \(batchSize) images (\(classes.joined(separator: ", "))), t = \(t)")

        // MARK: 4. The sanity run: overfit the fixed batch
        //
        // Loss: the post's, the Huber loss (smooth L1, δ = 1) between ε and ε_θ(x_t, t), averaged
        // over pixels (`pLosses`, Algorithm 1; DDPM's L_simple is the same with a square). A
        // network that outputs zeros scores E[huber(ε)] = 0.42 for ε ~ N(0, 1); memorising the
        // batch drives it to 0. If it does not fall, the forward or backward pass is broken.
        let optimizer = Adam(model.parameters(), lr: lr)
        var losses: [Float] = []
        let trainClock = Stopwatch()
        for step in 1...stepCount {
            optimizer.zeroGrad()
            let loss = diffusion.pLosses(epsTheta, x0: x0, t: t, noise: noise, loss: .huber)   // []
            try requireFinite(loss.item, step: step)           // a learning rate too high stops here
            loss.backward()
            optimizer.step()
            losses.append(loss.item)
            if step == 1 || step % 5 == 0 || step == stepCount {
                print(String(format: "step %3d  loss %.4f", step, loss.item))
            }
        }
        let trainSeconds = trainClock.seconds
        let finalLoss = noGrad { diffusion.pLosses(epsTheta, x0: x0, t: t, noise: noise, loss: .huber).item }
        print(String(format: "loss %.4f → %.4f after %d Adam steps (%.2f s per step); %@", losses[0], finalLoss,
                     stepCount, trainSeconds / Double(stepCount),
                     finalLoss < losses[0] ? "falling, as it must" : "NOT falling"))
        try lossFigure(losses).writePNG(to: out.file("sanity_loss.png"))
        print("wrote \(out.display("sanity_loss.png"))")

        // MARK: 5. What the first level sees
        //
        // The first block (downs.0.0: a ResnetBlock, or a ConvNeXt block) turns the embedding of
        // the noisy image into 28 feature maps at full resolution. Each map is shown on its own
        // grey scale. We look at the batch's least noisy image (smallest t): at large t the
        // input is almost pure noise, and so are the maps.
        let shown = t.indices.min { t[$0] < t[$1] }!
        var firstStage: Tensor? = nil
        noGrad {
            _ = model.forward(xt.slice(shown..<shown + 1, axis: 0), timeInput.slice(shown..<shown + 1, axis: 0),
                              observe: { path, y in if path == "downs.0.0" { firstStage = y } })   // [1, 28, 28, 28]
        }
        let features = featureMapsFigure(firstStage!, x0: x0.select(shown, axis: 0), xt: xt.select(shown, axis: 0),
                                         title: "\(FashionMNIST.classNames[Int(data.labels[shown])]), t = \(t[shown])")
        try features.writePNG(to: out.file("feature_maps.png"))
        print("wrote \(out.display("feature_maps.png"))")

        // MARK: 6. Save the weights (safetensors, PyTorch names) and read them back
        let checkpoint = out.file("unet.safetensors")
        let pytorchName = ["annotated": "Unet", "mindspore": "MindSporeUnet", "tworesunet": "TwoResUNet"][modelChoice]!
        try model.saveStateDict(to: checkpoint,
                                metadata: ["model": "\(pytorchName)(dim=28, dim_mults=(1, 2, 4), channels=1)",
                                           "block": block, "steps": "\(stepCount)"])
        var other = RandomGenerator(seed: common.seed &+ 1)
        let reloaded = makeModel(&other)
        try reloaded.loadStateDict(checkpoint, strict: true)
        let reloadedEps: NoisePredictor = { x, steps in reloaded(x, Tensor(steps.map(Float.init))) }
        let reloadedLoss = noGrad { diffusion.pLosses(reloadedEps, x0: x0, t: t, noise: noise, loss: .huber).item }
        print(String(format: "wrote %@ (%.1f MB, %d tensors); reloaded model's loss %.6f (%@)",
                     out.display("unet.safetensors"), Double(fileSize(checkpoint)) / 1e6,
                     model.namedParameters().count, reloadedLoss,
                     reloadedLoss == finalLoss ? "identical" : "DIFFERENT"))

        try saveSummary(architecture, parameters: total, initialLoss: losses[0], finalLoss: finalLoss, out)
    }
}
