import Testing
@testable import TinyTensor

/// The SIMD loops of `+`, `−`, `·` (Kernels/ElementwiseKernels.swift) against their reference,
/// `Tensor.broadcastMap` with the same arithmetic as a closure: the same bits for every
/// broadcast pattern the models use, odd run lengths (SIMD remainders) and large outputs
/// (split between threads).
@Suite struct ElementwiseKernelTests {
    static let shapePairs: [([Int], [Int])] = [
        ([37], [37]),                              // same shape, a remainder after 2 × 16 lanes
        ([64, 28, 28, 28], [64, 28, 28, 28]),      // same shape, large: split between threads
        ([64, 28, 28, 28], [64, 28, 1, 1]),        // FiLM scale/shift on a feature map
        ([5, 3, 1, 1], [5, 3, 7, 9]),              // ... on the left
        ([4, 6, 7], [7]),                          // a row vector (bias)
        ([4, 1, 7], [1, 6, 1]),                    // both broadcast
        ([3, 1], [1, 19]),                         // outer product shape
        ([1], [2, 3, 17]),                         // a one-element tensor
        ([2, 1, 5, 1], [2, 3, 5, 4]),              // broadcast axes that do not merge
        ([0, 3], [1, 3]),                          // empty
    ]

    static func reference(_ op: BinaryArithmetic, _ a: Tensor, _ b: Tensor) -> ([Float], [Int]) {
        switch op {
        case .add: Tensor.broadcastMap(a, b, op: "add", +)
        case .sub: Tensor.broadcastMap(a, b, op: "sub", -)
        case .mul: Tensor.broadcastMap(a, b, op: "mul", *)
        }
    }

    @Test(arguments: [BinaryArithmetic.add, .sub, .mul])
    func broadcastMatchesReference(_ op: BinaryArithmetic) {
        var rng = RandomGenerator(seed: 7)
        for (sa, sb) in Self.shapePairs {
            let a = Tensor.randn(sa, using: &rng), b = Tensor.randn(sb, using: &rng)
            let (fast, fastShape) = ElementwiseKernels.broadcast(op, a, b, name: "test")
            let (slow, slowShape) = Self.reference(op, a, b)
            #expect(fastShape == slowShape, "\(sa) with \(sb)")
            #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern), "\(op) on \(sa) with \(sb)")
        }
    }

    @Test func tensorOperatorsUseTheSameArithmetic() {
        var rng = RandomGenerator(seed: 8)
        let a = Tensor.randn([6, 4, 5, 5], using: &rng), b = Tensor.randn([6, 4, 1, 1], using: &rng)
        #expect((a + b).data == Tensor.broadcastMap(a, b, op: "add", +).0)
        #expect((b - a).data == Tensor.broadcastMap(b, a, op: "sub", -).0)
        #expect((a * b).data == Tensor.broadcastMap(a, b, op: "mul", *).0)
        #expect((a * 0.3).data == a.data.map { $0 * 0.3 })
        #expect((a + 0.3).data == a.data.map { $0 + 0.3 })
        #expect((0.3 - a).data == a.data.map { 0.3 - $0 })
    }

    @Test func scalarOpsGradients() {
        let x = Tensor([1, -2, 3], shape: [3]).requiringGrad()
        ((x * 2.5 + 1) * Tensor([1, 10, 100], shape: [3])).sum().backward()
        #expect(x.grad!.data == [2.5, 25, 250])
    }

    @Test func coalescingMergesOnlyContiguousAxes() {
        let shape = [2, 3, 4, 5]
        let full = broadcastStrides(shape, to: shape), film = broadcastStrides([2, 3, 1, 1], to: shape)
        let merged = ElementwiseKernels.coalesced(shape, full, film)
        #expect(merged.shape == [6, 20] && merged.sa == [20, 1] && merged.sb == [1, 0])
        let same = ElementwiseKernels.coalesced(shape, full, full)
        #expect(same.shape == [120] && same.sa == [1] && same.sb == [1])
        let outer = broadcastStrides([2, 1, 4, 1], to: shape)
        let apart = ElementwiseKernels.coalesced(shape, full, outer)
        #expect(apart.shape == [2, 3, 4, 5] && apart.sb == [4, 0, 1, 0])
    }
}
