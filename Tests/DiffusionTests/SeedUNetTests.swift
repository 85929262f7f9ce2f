import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

// The seeds' other two U-Nets — the MindSpore port's and the TwoResUNet article's — against
// their PyTorch definitions in Fixtures/make_seed_unets_fixture.py (float64 references stored as
// float32): outputs, input gradients and every parameter gradient within 1e-4, the same
// parameter counts, and the same state_dict names and shapes in the same order.

@Suite struct MindSporeUNetTests {
    @Test func convNextBlockHasNoConvBiasesAndTanhGELU() throws {
        var rng = RandomGenerator(seed: 1)
        let block = ConvNextBlock(8, 16, timeEmbDim: 32, mult: 2, bias: false, gelu: .geluTanh, rng: &rng)
        #expect(block.namedParameters().map(\.name) == [
            "mlp.1.weight", "mlp.1.bias", "ds_conv.weight", "net.0.weight", "net.0.bias", "net.1.weight",
            "net.3.weight", "net.3.bias", "net.4.weight", "res_conv.weight"])
        try checkAgainstPyTorch("mindspore_convnext_block", block) { x, f in block(x, f.io["time"]!) }
    }

    @Test func linearAttentionScalesValuesAndEndsInAChannelLayerNorm() throws {
        var rng = RandomGenerator(seed: 2)
        let wrapped = Residual(PreNorm(8, LinearAttention(8, variant: .mindSpore, rng: &rng)))
        #expect(wrapped.namedParameters().map(\.name) == [
            "fn.fn.to_qkv.weight", "fn.fn.to_out.0.weight", "fn.fn.to_out.0.bias", "fn.fn.to_out.1.g",
            "fn.norm.weight", "fn.norm.bias"])
        try checkAgainstPyTorch("mindspore_linear_attention", wrapped) { x, _ in wrapped(x) }
    }

    @Test func stridedDownsampling() throws {
        var rng = RandomGenerator(seed: 3)
        let down = Conv2d(8, 8, kernelSize: 4, stride: 2, padding: 1, bias: false, rng: &rng)
        try checkAgainstPyTorch("mindspore_downsample", down) { x, _ in down(x) }
    }

    @Test func wholeModelMatchesPyTorch() throws {
        var rng = RandomGenerator(seed: 4)
        let model = MindSporeUnet(dim: 8, dimMults: [1, 2], channels: 1, rng: &rng)
        #expect(model.parameterCount == 87_624)
        #expect(model.initConv.weight.shape == [4, 1, 7, 7])           // init_dim = 8 // 3 · 2
        #expect(model.ups.count == 1)                                   // the up path runs over in_out[1:]
        try checkAgainstPyTorch("mindspore_small", model) { x, f in model(x, f.io["time"]!) }
    }

    @Test func fashionConfigurationHasPyTorchNamesAndCount() throws {
        var rng = RandomGenerator(seed: 0)
        let model = MindSporeUnet(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        let reference = try PyTorchNames.load("mindspore_fashion_names.json")
        #expect(model.parameterCount == 2_992_180 && reference.count == 2_992_180)
        #expect(model.namedParameters().map(\.name) == reference.parameters.map(\.name))
        #expect(model.namedParameters().map(\.tensor.shape) == reference.parameters.map(\.shape))
    }
}

@Suite struct TwoResUNetTests {
    @Test func convNextBlockUsesTheArticlesNames() throws {
        var rng = RandomGenerator(seed: 5)
        let block = ConvNextBlock(8, 16, timeEmbDim: 32, naming: .twoResUNet, rng: &rng)
        #expect(block.namedParameters().map(\.name) == [
            "mlp.1.weight", "mlp.1.bias", "in_conv.weight", "in_conv.bias", "block.0.weight", "block.0.bias",
            "block.1.weight", "block.1.bias", "block.3.weight", "block.3.bias", "block.4.weight", "block.4.bias",
            "residual_conv.weight", "residual_conv.bias"])
        try checkAgainstPyTorch("tworesunet_convnext_block", block) { x, f in block(x, f.io["time"]!) }
    }

    /// The gate's output and the gradients of both its inputs (the skip and the gate).
    @Test func blockAttentionGatesTheSkip() throws {
        var rng = RandomGenerator(seed: 6)
        let attention = BlockAttention(gateChannels: 16, residualChannels: 8, rng: &rng)
        #expect(attention.namedParameters().map(\.name) == [
            "gate_conv.weight", "gate_conv.bias", "residual_conv.weight", "residual_conv.bias", "in_conv.weight", "in_conv.bias"])
        let f = try UNetFixture("block_attention")
        let gate = f.io["gate"]!.detached().requiringGrad()
        try checkAgainstPyTorch("block_attention", attention) { x, _ in attention(x, gate: gate) }
        #expect(relativeError(gate.grad!, f.io["grad.gate"]!) < 1e-4)
    }

    @Test func wholeModelMatchesPyTorch() throws {
        var rng = RandomGenerator(seed: 7)
        let model = TwoResUNet(dim: 8, dimMults: [1, 2], channels: 1, rng: &rng)
        #expect(model.parameterCount == 81_633)
        #expect(model.namedParameters().contains { $0.name == "downs.0.2.net.1.weight" })
        try checkAgainstPyTorch("tworesunet_small", model) { x, f in model(x, f.io["time"]!) }
    }

    @Test func gatedModelMatchesPyTorch() throws {
        var rng = RandomGenerator(seed: 8)
        let model = TwoResUNet(dim: 8, dimMults: [1, 2], channels: 1, attentionGate: true, rng: &rng)
        #expect(model.parameterCount == 82_219)
        #expect(model.namedParameters().contains { $0.name == "ups.0.0.gate_conv.weight" })
        #expect(model.namedParameters().contains { $0.name == "ups.0.3.net.1.weight" })
        try checkAgainstPyTorch("tworesunet_small_gated", model) { x, f in model(x, f.io["time"]!) }
    }

    @Test func fashionConfigurationHasPyTorchNamesAndCount() throws {
        var rng = RandomGenerator(seed: 0)
        let model = TwoResUNet(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        let reference = try PyTorchNames.load("tworesunet_fashion_names.json")
        #expect(model.parameterCount == 3_184_217 && reference.count == 3_184_217)
        #expect(model.namedParameters().map(\.name) == reference.parameters.map(\.name))
        #expect(model.namedParameters().map(\.tensor.shape) == reference.parameters.map(\.shape))
    }
}

@Suite struct DenoisingUNetTests {
    /// Every architecture's summary: the rows' parameters add up to the model's, the image
    /// comes back at full size, and 28 admits exactly two downsamplings.
    @Test(arguments: UNetArchitecture.allCases)
    func summaryAddsUpAndShapesComeBack(_ architecture: UNetArchitecture) throws {
        var rng = RandomGenerator(seed: 0)
        let model = architecture.make(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        let rows = model.summary(inputShape: [2, 1, 28, 28])
        #expect(rows.first?.path == "init_conv")
        #expect(rows.last?.outputShape == [2, 1, 28, 28])
        #expect(rows.map(\.parameters).reduce(0, +) == model.parameterCount)
        #expect(rows.first { $0.path == "mid_block2" }?.outputShape[2...] == [7, 7])
        #expect(model.downsamplings == 2)
        try model.checkImageSize(height: 28, width: 28)
        #expect(throws: DiffusionError.self) { try model.checkImageSize(height: 30, width: 30) }
    }

    @Test func unknownArchitectureIsOneSentence() {
        #expect(throws: DiffusionError.self) { _ = try UNetArchitecture(named: "vit") }
        #expect(UNetArchitecture.choices == "annotated, mindspore or tworesunet")
    }
}
