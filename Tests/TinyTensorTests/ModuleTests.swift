import Testing
@testable import TinyTensor

/// Module's documentation example, verbatim.
final class TinyNet: Module {
    let fc1: Linear, fc2: Linear
    init(rng: inout RandomGenerator) {
        fc1 = Linear(2, 16, rng: &rng)
        fc2 = Linear(16, 1, rng: &rng)
    }
    func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }   // [B, 2] -> [B, 1]
}

final class Block: Module {
    let proj: Linear
    let norm: Linear?
    init(rng: inout RandomGenerator) { proj = Linear(3, 3, rng: &rng); norm = nil }
}

final class Net: Module {
    let initConv: Linear
    let downs: [[Module]]
    let mlp: Sequential
    let stepCount = 3
    init(rng: inout RandomGenerator) {
        initConv = Linear(2, 3, rng: &rng)
        downs = [[Block(rng: &rng), Linear(3, 3, bias: false, rng: &rng)]]
        let a = Linear(3, 4, rng: &rng), b = Linear(4, 1, rng: &rng)
        mlp = Sequential(a, Activation(.relu), b)
    }
}

@Suite struct ModuleTests {
    @Test func theDocumentationExampleRuns() {
        var rng = RandomGenerator(seed: 0)
        let net = TinyNet(rng: &rng)
        #expect(net.namedParameters().map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        #expect(net(Tensor.randn([5, 2], using: &rng)).shape == [5, 1])
    }

    @Test func parametersHavePyTorchNames() {
        var rng = RandomGenerator(seed: 0)
        let names = Net(rng: &rng).namedParameters().map(\.name)
        #expect(names == ["init_conv.weight", "init_conv.bias", "downs.0.0.proj.weight", "downs.0.0.proj.bias",
                          "downs.0.1.weight", "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"])
        #expect(Module.snakeCase("midBlock1") == "mid_block1")
        #expect(Module.snakeCase("toQKV") == "to_qkv")
        #expect(Module.snakeCase("finalResBlock") == "final_res_block")
    }

    @Test func trainEvalReachesChildren() {
        var rng = RandomGenerator(seed: 0)
        let net = Net(rng: &rng)
        net.eval()
        #expect(net.namedModules().allSatisfy { !$0.module.training })
        #expect(net.parameterCount == 3 * 2 + 3 + 12 + 9 + 12 + 4 + 4 + 1)
    }

    @Test func linearInitBounds() {
        var rng = RandomGenerator(seed: 1)
        let l = Linear(100, 50, rng: &rng)
        #expect(l.weight.data.allSatisfy { Swift.abs($0) <= 0.1 })
        let g = Linear(100, 50, initialization: .glorotUniform, rng: &rng)
        #expect(g.bias!.data.allSatisfy { $0 == 0 })
        #expect(g.weight.data.map { Swift.abs($0) }.max()! > 0.1)
    }
}
