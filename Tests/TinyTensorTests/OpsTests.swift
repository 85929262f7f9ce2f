import Testing
@testable import TinyTensor

/// A tensor of shape `shape` with N(0,1) values from a fixed seed.
func randomTensor(_ shape: [Int], seed: UInt64 = 7, scale: Float = 1, offset: Float = 0) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor(rng.normal(count: shape.product).map { $0 * scale + offset }, shape: shape)
}

func expectClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, _ comment: Comment? = nil) {
    #expect(a.count == b.count, comment)
    for (x, y) in zip(a, b) where Swift.abs(x - y) > tol * Swift.max(1, Swift.abs(y)) {
        Issue.record("\(x) vs \(y) \(comment.map { "\($0)" } ?? "")")
        return
    }
}

@Suite struct BroadcastingTests {
    @Test func shapesBroadcastLikeNumPy() {
        #expect(broadcastShape([8, 1, 6, 1], [7, 1, 5]) == [8, 7, 6, 5])
        #expect(broadcastShape([3], []) == [3])
        #expect(broadcastShape([2, 3], [2, 1]) == [2, 3])
    }

    @Test func addBroadcastsRowsAndColumns() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let row = Tensor([10, 20, 30], shape: [3])
        let col = Tensor([100, 200], shape: [2, 1])
        #expect((a + row).data == [11, 22, 33, 14, 25, 36])
        #expect((a + col).data == [101, 102, 103, 204, 205, 206])
        #expect((col * row).shape == [2, 3])
        #expect((col * row).data == [1000, 2000, 3000, 2000, 4000, 6000])
    }

    @Test func sumToShapeIsTheAdjointOfBroadcast() {
        let g: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(sumToShape(g, from: [2, 3], to: [3]) == [5, 7, 9])
        #expect(sumToShape(g, from: [2, 3], to: [2, 1]) == [6, 15])
        #expect(sumToShape(g, from: [2, 3], to: []) == [21])
    }
}

@Suite struct ReductionTests {
    @Test func sumMeanVarMax() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(x.sum().item == 21)
        #expect(x.sum(axis: 0).data == [5, 7, 9])
        #expect(x.sum(axis: 1).data == [6, 15])
        #expect(x.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(x.mean(axis: 1).data == [2, 5])
        expectClose(x.variance(axes: [1]).data, [2.0 / 3, 2.0 / 3])
        expectClose(x.variance(axes: [1], correction: 1).data, [1, 1])
        #expect(x.max(axis: 1).data == [3, 6])
        #expect(x.max(axis: 0).data == [4, 5, 6])
        #expect(x.argmax(axis: 1) == [2, 2])
        #expect(Tensor([1, 2, 3, 4]).cumprod().data == [1, 2, 6, 24])
    }

    @Test func creation() {
        expectClose(Tensor.linspace(0, 1, count: 5).data, [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor.arange(0, 5).data == [0, 1, 2, 3, 4])
        #expect(Tensor.arange(1, 2, step: 0.25).count == 4)
    }
}

@Suite struct ShapeOpsTests {
    @Test func permuteTransposeReshape() {
        let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let p = x.permute(2, 0, 1)
        #expect(p.shape == [4, 2, 3])
        #expect(p[1, 1, 2] == x[1, 2, 1])
        #expect(x.transpose(0, 2)[3, 1, 0] == x[0, 1, 3])
        #expect(x.reshape(-1, 4).shape == [6, 4])
        #expect(x.flatten(from: 1).shape == [2, 12])
    }

    @Test func sliceSelectConcatStackChunk() {
        let x = Tensor((0..<12).map(Float.init), shape: [3, 4])
        #expect(x.slice(1..<3).data == Array(4..<12).map(Float.init))
        #expect(x.select(1, axis: 1).data == [1, 5, 9])
        let c = Tensor.concat([x, x.slice(0..<1)], axis: 0)
        #expect(c.shape == [4, 4])
        #expect(Tensor.concat([x, x], axis: 1).select(0).data == [0, 1, 2, 3, 0, 1, 2, 3])
        #expect(Tensor.stack([x, x], axis: 1).shape == [3, 2, 4])
        let parts = x.chunk(2, axis: 1)
        #expect(parts[1].data == [2, 3, 6, 7, 10, 11])
        #expect(x.indexSelect([2, 0, 2]).select(0).data == [8, 9, 10, 11])
    }

    @Test func whereAndComparisons() {
        let a = Tensor([1, -2, 3]), b = Tensor([0, 0, 5])
        #expect((a .> b).data == [1, 0, 0])
        #expect(Tensor.where(a .> b, a, b).data == [1, 0, 5])
    }
}

@Suite struct MatMulTests {
    /// The transpose flags give the same bits as writing the transpose out, forward and backward,
    /// at attention's shapes (long K, so K blocks and every tile path are crossed).
    @Test(arguments: [(false, true), (true, false), (true, true)])
    func matmulTransposeFlagsMatchExplicitTransposes(_ flags: (Bool, Bool)) {
        var rng = RandomGenerator(seed: 11)
        let (ta, tb) = flags
        let (m, k, n) = (32, 300, 45)
        let a = Tensor.randn(ta ? [3, 2, k, m] : [3, 2, m, k], using: &rng).requiringGrad()
        let b = Tensor.randn(tb ? [3, 2, n, k] : [3, 2, k, n], using: &rng).requiringGrad()
        let g = Tensor.randn([3, 2, m, n], using: &rng)
        let fused = a.matmul(b, transposeSelf: ta, transposeOther: tb)
        (fused * g).sum().backward()
        let (fa, fb) = (a.grad!.data, b.grad!.data)
        a.grad = nil; b.grad = nil
        let explicit = (ta ? a.transpose(-2, -1) : a).matmul(tb ? b.transpose(-2, -1) : b)
        (explicit * g).sum().backward()
        #expect(fused.shape == [3, 2, m, n])
        #expect(fused.data.map(\.bitPattern) == explicit.data.map(\.bitPattern))
        #expect(fa.map(\.bitPattern) == a.grad!.data.map(\.bitPattern))
        #expect(fb.map(\.bitPattern) == b.grad!.data.map(\.bitPattern))
    }

    @Test func matmulMatchesHandComputedProduct() {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let b = Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])
        #expect(a.matmul(b).data == [58, 64, 139, 154])
    }

    @Test func batchedMatmulAndLinear() {
        let a = randomTensor([3, 4, 5]), b = randomTensor([3, 5, 2], seed: 2)
        let c = a.matmul(b)
        for i in 0..<3 { expectClose(c.select(i).data, a.select(i).matmul(b.select(i)).data) }
        let x = randomTensor([6, 5]), w = randomTensor([3, 5], seed: 3), bias = randomTensor([3], seed: 4)
        expectClose(Tensor.linear(x, weight: w, bias: bias).data, (x.matmul(w.T) + bias).data)
    }
}
