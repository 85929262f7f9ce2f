import Testing
@testable import TinyTensor

/// Every differentiable op against central finite differences.
@Suite struct GradCheckTests {
    func check(_ inputs: [Tensor], tol: Float = 2e-2, _ f: ([Tensor]) -> Tensor, _ name: String) {
        let r = gradCheck(inputs, f)
        #expect(r.maxError < tol, "\(name): \(r)")
    }

    @Test func binaryOpsWithBroadcasting() {
        check([randomTensor([2, 3]), randomTensor([3], seed: 2)], { $0[0] + $0[1] }, "add")
        check([randomTensor([2, 3]), randomTensor([2, 1], seed: 2)], { $0[0] - $0[1] }, "sub")
        check([randomTensor([2, 3]), randomTensor([1, 3], seed: 2)], { $0[0] * $0[1] }, "mul")
        check([randomTensor([2, 3]), randomTensor([3], seed: 2, scale: 0.2, offset: 2)], { $0[0] / $0[1] }, "div")
        check([randomTensor([2, 3], scale: 0.2, offset: 2), randomTensor([3], seed: 2, scale: 0.3)], { Tensor.pow($0[0], $0[1]) }, "pow")
        check([randomTensor([4]), randomTensor([4], seed: 9)], { Tensor.maximum($0[0], $0[1]) }, "maximum")
        check([randomTensor([4]), randomTensor([4], seed: 9)], { Tensor.minimum($0[0], $0[1]) }, "minimum")
        check([randomTensor([2, 3]), randomTensor([3], seed: 5)],
              { Tensor.where(Tensor([1, 0, 1]), $0[0], $0[1]) }, "where")
        check([randomTensor([3])], { 2 - $0[0] * 3 + 1 }, "scalar arithmetic")
        check([randomTensor([3], scale: 0.2, offset: 2)], { 1 / $0[0] }, "rdiv")
    }

    @Test func unaryOps() {
        let x = randomTensor([5])
        let pos = randomTensor([5], scale: 0.3, offset: 2)
        check([x], { $0[0].exp() }, "exp")
        check([pos], { $0[0].log() }, "log")
        check([pos], { $0[0].sqrt() }, "sqrt")
        check([pos], { $0[0].rsqrt() }, "rsqrt")
        check([x], { $0[0].sin() }, "sin")
        check([x], { $0[0].cos() }, "cos")
        check([x], { $0[0].tanh() }, "tanh")
        check([x], { $0[0].square() }, "square")
        check([pos], { $0[0].pow(1.5) }, "pow scalar")
        check([x], { $0[0].sigmoid() }, "sigmoid")
        check([x], { $0[0].silu() }, "silu")
        check([x], { $0[0].gelu() }, "gelu")
        check([x], { $0[0].geluTanh() }, "gelu tanh")
        // Kinks: keep inputs away from 0 / the clamp bounds so differences are smooth.
        let away = Tensor([-1.3, -0.6, 0.4, 0.9, 1.7])
        check([away], { $0[0].relu() }, "relu")
        check([away], { $0[0].abs() }, "abs")
        check([away], { $0[0].clamp(min: -1, max: 1) }, "clamp")
    }

    @Test func reductions() {
        let x = randomTensor([2, 3, 4])
        check([x], { $0[0].sum() }, "sum")
        check([x], { $0[0].sum(axes: [0, 2]) }, "sum axes")
        check([x], { $0[0].mean(axis: 1, keepDims: true) }, "mean")
        check([x], { $0[0].variance(axes: [2]) }, "variance")
        check([x], { $0[0].max(axis: 1) }, "max")
        check([randomTensor([2, 4], scale: 0.3, offset: 1)], { $0[0].cumprod(axis: 1) }, "cumprod")
    }

    @Test func shapeOps() {
        let x = randomTensor([2, 3, 4])
        check([x], { $0[0].reshape(6, 4) }, "reshape")
        check([x], { $0[0].permute(2, 0, 1) }, "permute")
        check([x], { $0[0].slice(1..<2, axis: 1) }, "slice")
        check([x], { $0[0].indexSelect([2, 0, 2], axis: 1) }, "indexSelect")
        check([x, randomTensor([2, 1, 4], seed: 3)], { Tensor.concat([$0[0], $0[1]], axis: 1) }, "concat")
        check([x, randomTensor([2, 3, 4], seed: 3)], { Tensor.stack([$0[0], $0[1]], axis: 0) }, "stack")
        check([x], { $0[0].chunk(2, axis: 2)[1] }, "chunk")
        check([randomTensor([3, 1])], { $0[0].broadcast(to: [2, 3, 4]) }, "broadcast")
    }

    @Test func matmulAndLinear() {
        check([randomTensor([3, 4]), randomTensor([4, 5], seed: 2)], { $0[0].matmul($0[1]) }, "matmul")
        check([randomTensor([2, 3, 4]), randomTensor([2, 4, 5], seed: 2)], { $0[0].matmul($0[1]) }, "batched matmul")
        check([randomTensor([2, 3, 4]), randomTensor([4, 5], seed: 2)], { $0[0].matmul($0[1]) }, "shared-B matmul")
        check([randomTensor([2, 4, 3]), randomTensor([2, 4, 5], seed: 2)], { $0[0].matmul($0[1], transposeSelf: true) }, "Aᵀ·B")
        check([randomTensor([2, 3, 4]), randomTensor([2, 5, 4], seed: 2)], { $0[0].matmul($0[1], transposeOther: true) }, "A·Bᵀ")
        check([randomTensor([4, 3]), randomTensor([5, 4], seed: 2)],
              { $0[0].matmul($0[1], transposeSelf: true, transposeOther: true) }, "Aᵀ·Bᵀ")
        check([randomTensor([3, 4]), randomTensor([5, 4], seed: 2), randomTensor([5], seed: 3)],
              { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }, "linear")
    }
}

@Suite struct AutogradTests {
    @Test func gradientsAccumulateAcrossUsesAndCalls() {
        let x = Tensor([2, 3]).requiringGrad()
        let y = (x * x + x).sum()     // dy/dx = 2x + 1
        y.backward()
        #expect(x.grad?.data == [5, 7])
        (x * 2).sum().backward()
        #expect(x.grad?.data == [7, 9])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func noGradRecordsNothing() {
        let x = Tensor([1, 2]).requiringGrad()
        let y = noGrad { x * 3 }
        #expect(!y.requiresGrad)
        #expect(GradMode.isEnabled)
    }
}
