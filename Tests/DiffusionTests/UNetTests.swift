import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

// The Annotated U-Net against its PyTorch reference. The fixtures come from
// Fixtures/make_unet_fixture.py (float64 references stored as float32): for every case the
// module's weights (`<case>.weights.safetensors`, written by Python) and the inputs, output and
// gradients of L = Σ output · R (`<case>.io.safetensors`).

let fixtureFolder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("unet")

struct UNetFixture {
    let weights: [(name: String, tensor: Tensor)]
    let io: [String: Tensor]

    init(_ name: String) throws {
        weights = try SafeTensors.read(fixtureFolder.appendingPathComponent("\(name).weights.safetensors")).tensors
        var io: [String: Tensor] = [:]
        for (k, t) in try SafeTensors.read(fixtureFolder.appendingPathComponent("\(name).io.safetensors")).tensors { io[k] = t }
        self.io = io
    }
}

/// max |a − b| / max |b|: the error relative to the tensor's scale.
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    let scale = max(b.data.map(abs).max() ?? 0, 1e-12)
    return zip(a.data, b.data).map { abs($0 - $1) }.max()! / scale
}

/// Loads the fixture weights (strict), runs `forward`, and compares the output, the input
/// gradient and every parameter gradient with PyTorch.
func checkAgainstPyTorch(_ name: String, _ module: Module, tolerance: Float = 1e-4,
                         _ forward: (Tensor, UNetFixture) -> Tensor) throws {
    let f = try UNetFixture(name)
    try module.loadStateDict(f.weights, strict: true, source: name)
    let x = f.io["input"]!.detached().requiringGrad()
    let out = forward(x, f)
    let expected = f.io["output"]!
    #expect(out.shape == expected.shape, "\(name): output shape")
    #expect(relativeError(out, expected) < tolerance, "\(name): output error \(relativeError(out, expected))")
    (out * f.io["loss_weight"]!).sum().backward()
    let gx = relativeError(x.grad!, f.io["grad.input"]!)
    #expect(gx < tolerance, "\(name): input gradient error \(gx)")
    var worst: (String, Float) = ("", 0)
    for (pname, p) in module.namedParameters() {
        let ref = try #require(f.io["grad.\(pname)"], "\(name): no reference gradient for \(pname)")
        let g = try #require(p.grad, "\(name): \(pname) got no gradient")
        let e = relativeError(g, ref)
        if e > worst.1 { worst = (pname, e) }
    }
    #expect(worst.1 < tolerance, "\(name): worst parameter gradient \(worst.0) error \(worst.1)")
}

@Suite struct UNetBlockTests {
    @Test func sinusoidalEmbeddings() throws {
        let f = try UNetFixture("sinusoidal_embeddings")
        let out = SinusoidalPositionEmbeddings(16)(f.io["input"]!)
        #expect(relativeError(out, f.io["output"]!) < 1e-4)
    }

    @Test func resnetBlock() throws {
        var rng = RandomGenerator(seed: 1)
        let block = ResnetBlock(8, 16, timeEmbDim: 32, groups: 4, rng: &rng)
        try checkAgainstPyTorch("resnet_block", block) { x, f in block(x, f.io["time"]!) }
        let same = ResnetBlock(8, 8, timeEmbDim: 32, groups: 4, rng: &rng)
        #expect(same.resConv == nil)
        try checkAgainstPyTorch("resnet_block_same", same) { x, f in same(x, f.io["time"]!) }
    }

    @Test func convNextBlock() throws {
        var rng = RandomGenerator(seed: 2)
        let block = ConvNextBlock(8, 16, timeEmbDim: 32, mult: 2, rng: &rng)
        #expect(block.namedParameters().map(\.name) == [
            "mlp.1.weight", "mlp.1.bias", "ds_conv.weight", "ds_conv.bias", "net.0.weight", "net.0.bias",
            "net.1.weight", "net.1.bias", "net.3.weight", "net.3.bias", "net.4.weight", "net.4.bias",
            "res_conv.weight", "res_conv.bias"])
        try checkAgainstPyTorch("convnext_block", block) { x, f in block(x, f.io["time"]!) }
    }

    @Test func attention() throws {
        var rng = RandomGenerator(seed: 3)
        let attention = Attention(16, rng: &rng)
        try checkAgainstPyTorch("attention", attention) { x, _ in attention(x) }
    }

    @Test func linearAttention() throws {
        var rng = RandomGenerator(seed: 4)
        let attention = LinearAttention(16, rng: &rng)
        try checkAgainstPyTorch("linear_attention", attention) { x, _ in attention(x) }
        let wrapped = Residual(PreNorm(8, LinearAttention(8, rng: &rng)))
        #expect(wrapped.namedParameters().first?.name == "fn.fn.to_qkv.weight")
        try checkAgainstPyTorch("prenorm_linear_attention", wrapped) { x, _ in wrapped(x) }
    }

    @Test func resampling() throws {
        var rng = RandomGenerator(seed: 5)
        let down = Downsample(8, 16, rng: &rng)
        #expect(down.namedParameters().map(\.name) == ["1.weight", "1.bias"])
        try checkAgainstPyTorch("downsample", down) { x, _ in down(x) }
        let up = Upsample(16, 8, rng: &rng)
        try checkAgainstPyTorch("upsample", up) { x, _ in up(x) }
        let transposed = transposedUpsample(16, 8, rng: &rng)
        try checkAgainstPyTorch("upsample_transposed", transposed) { x, _ in transposed(x) }
    }

    @Test func weightStandardizationMultipliesByRsqrt() {
        var rng = RandomGenerator(seed: 6)
        let conv = WeightStandardizedConv2d(3, 2, kernelSize: 3, rng: &rng)
        let w = conv.standardizedWeight()
        for o in 0..<2 {
            let row = Array(w.data[(o * 27)..<((o + 1) * 27)])
            let mean = row.reduce(0, +) / 27
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 27
            #expect(abs(mean) < 1e-5)
            #expect(abs(variance - 1) < 1e-2)   // ≈ var/(var + 1e-5): unit variance, not the blog's var²
        }
    }
}

    /// Under `noGrad` the standardised kernel is computed once and reused until the weight
    /// changes; with gradients on it is computed afresh, with its graph.
    @Test func standardizedWeightIsReusedOnlyWhileTheWeightIsUnchanged() {
        var rng = RandomGenerator(seed: 7)
        let conv = WeightStandardizedConv2d(3, 4, kernelSize: 3, rng: &rng)
        let fresh = conv.standardizedWeight()                       // grad mode: not cached
        #expect(fresh.requiresGrad)
        let first = noGrad { conv.standardizedWeight() }
        let second = noGrad { conv.standardizedWeight() }
        #expect(first === second)
        #expect(first.data == fresh.data)
        conv.weight.data[5] += 0.5                                  // an optimizer step, a loaded checkpoint
        let changed = noGrad { conv.standardizedWeight() }
        #expect(changed !== first && changed.data != first.data)
        #expect(changed.data == conv.standardizedWeight().data)
        let x = Tensor.randn([2, 3, 5, 5], using: &rng)
        let output = noGrad { conv(x) }
        #expect(output.data == conv(x).data)                        // sampling and training see the same conv
    }

@Suite struct UNetModelTests {
    func smallUnet(_ block: Unet.BlockKind = .resnet, _ upsample: Unet.UpsampleKind = .nearest,
                   selfCondition: Bool = false, seed: UInt64 = 9) -> Unet {
        var rng = RandomGenerator(seed: seed)
        return Unet(dim: 8, dimMults: [1, 2], channels: 1, selfCondition: selfCondition,
                    block: block, upsample: upsample, rng: &rng)
    }

    @Test func wholeUnetMatchesPyTorch() throws {
        let model = smallUnet()
        #expect(model.parameterCount == 73841)
        try checkAgainstPyTorch("unet_small", model) { x, f in model(x, f.io["time"]!) }
    }

    @Test func convNextUnetWithTransposedUpsamplingMatchesPyTorch() throws {
        let model = smallUnet(.convNext(mult: 2), .transposed)
        #expect(model.parameterCount == 111065)
        try checkAgainstPyTorch("unet_small_convnext", model) { x, f in model(x, f.io["time"]!) }
    }

    @Test func selfConditionedUnetMatchesPyTorch() throws {
        let model = smallUnet(selfCondition: true)
        try checkAgainstPyTorch("unet_small_selfcond", model) { x, f in
            model(x, f.io["time"]!, selfCondition: f.io["self_cond"]!)
        }
    }

    /// The Annotated Fashion-MNIST configuration: the same parameter count and the same
    /// state_dict names and shapes, in the same order, as PyTorch.
    @Test func fashionConfigurationHasPyTorchNamesAndCount() throws {
        var rng = RandomGenerator(seed: 0)
        let model = Unet(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        let reference = try PyTorchNames.load()
        #expect(model.parameterCount == 2_020_257)
        #expect(reference.count == 2_020_257)
        let ours = model.namedParameters()
        #expect(ours.map(\.name) == reference.parameters.map(\.name))
        #expect(ours.map(\.tensor.shape) == reference.parameters.map(\.shape))
    }

    @Test func summaryListsShapesAndParameters() {
        var rng = RandomGenerator(seed: 0)
        let model = Unet(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        let rows = model.summary(inputShape: [2, 1, 28, 28])
        #expect(rows.first?.path == "init_conv" && rows.last?.path == "final_conv")
        #expect(rows.first { $0.path == "mid_attn" }?.outputShape == [2, 112, 7, 7])
        #expect(rows.last?.outputShape == [2, 1, 28, 28])
        #expect(rows.map(\.parameters).reduce(0, +) == 2_020_257)
    }
}

/// The committed list of PyTorch names and shapes of the Fashion-MNIST Unet.
struct PyTorchNames: Decodable {
    struct Entry: Decodable { let name: String; let shape: [Int] }
    let parameterCount: Int
    let parameters: [Entry]
    var count: Int { parameterCount }

    enum CodingKeys: String, CodingKey { case parameterCount = "parameter_count", parameters }

    /// `file`: `unet_fashion_names.json` (the Annotated model), `mindspore_fashion_names.json`, ...
    static func load(_ file: String = "unet_fashion_names.json") throws -> PyTorchNames {
        let data = try Data(contentsOf: fixtureFolder.appendingPathComponent(file))
        return try JSONDecoder().decode(PyTorchNames.self, from: data)
    }
}

@Suite struct UNetImageSizeTests {
    @Test func imageSideMustAllowEveryDownsampling() throws {
        var rng = RandomGenerator(seed: 0)
        let twoDowns = Unet(dim: 8, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        #expect(twoDowns.downsamplings == 2)
        try twoDowns.checkImageSize(height: 28, width: 28)
        let threeDowns = Unet(dim: 8, dimMults: [1, 2, 4, 8], channels: 1, rng: &rng)
        #expect(throws: DiffusionError.self) { try threeDowns.checkImageSize(height: 28, width: 28) }
        try threeDowns.checkImageSize(height: 32, width: 32)
    }
}
