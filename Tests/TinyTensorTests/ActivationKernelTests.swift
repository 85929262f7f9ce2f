import Foundation
import Testing
@testable import TinyTensor

/// The vector SiLU and GELU-tanh kernels (Kernels/ActivationKernels.swift) against their
/// definitions in double precision (`Foundation.tanh` and `exp` on Double), over −12 ≤ x ≤ 12
/// and beyond, and against PyTorch's float results.
@Suite struct ActivationKernelTests {
    /// f(x) and f′(x) in double precision, straight from the doc comments of `Tensor.silu` and
    /// `geluTanh`.
    static func definition(_ f: ActivationKernels.Function, _ x: Double) -> (value: Double, derivative: Double) {
        switch f {
        case .silu:
            let s = 1 / (1 + Foundation.exp(-x))
            return (x * s, s * (1 + x * (1 - s)))
        case .geluTanh:
            let c = (2 / Double.pi).squareRoot(), k = 0.044715
            let th = Foundation.tanh(c * (x + k * x * x * x))
            return (0.5 * x * (1 + th), 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * k * x * x))
        }
    }

    /// Every x on a 1/1024 grid of [−12, 12], a few far-out and tiny ones; 24,580 values
    /// (not a multiple of 16: the last block is partial).
    static let inputs: [Float] = (-12 * 1024...12 * 1024).map { Float($0) / 1024 }
        + [-100, -30, -1e-30, 1e-30, 30, 100, 1e-3, -1e-3, 0.5e-6, -0.5e-6, 2e-20]

    @Test(arguments: [ActivationKernels.Function.silu, .geluTanh])
    func kernelsMatchTheirDefinitions(_ f: ActivationKernels.Function) {
        let x = Self.inputs, n = x.count
        var y = [Float](repeating: 0, count: n), dx = [Float](repeating: 0, count: n)
        let dy = [Float](repeating: 1, count: n)
        ActivationKernels.forward(f, x, &y, n)
        ActivationKernels.backward(f, x, dy, &dx, n)
        var worstValue = 0.0, worstDerivative = 0.0
        for i in 0..<n {
            let (v, d) = Self.definition(f, Double(x[i]))
            worstValue = max(worstValue, Swift.abs(Double(y[i]) - v) / max(1, Swift.abs(v)))
            worstDerivative = max(worstDerivative, Swift.abs(Double(dx[i]) - d) / max(1, Swift.abs(d)))
        }
        // Measured: values within 1.4·10⁻⁷, derivatives 1.6·10⁻⁷ (SiLU's 7.6·10⁻⁷: 1 − σ where σ ≈ 1).
        #expect(worstValue < 4e-7, "\(f)")
        #expect(worstDerivative < 1e-6, "\(f)")
    }

    /// PyTorch 2.13's float results (F.gelu(approximate="tanh"), F.silu and their gradients) at
    /// eight points. PyTorch's far left tail is the less precise of the two: its tanh GELU′(−5)
    /// is −2.01·10⁻⁶ where the true value is −1.55·10⁻⁶ (1 − tanh² cancels), hence a tolerance
    /// of 5·10⁻⁷ rather than a few ulp (the test above holds the kernels to the true values).
    @Test func kernelsMatchPyTorch() {
        let x: [Float] = [-5, -1.5, -0.5, 0, 0.3, 1, 2.5, 6]
        let golden: [(ActivationKernels.Function, [Float], [Float])] = [
            (.geluTanh, [-2.98023224e-07, -0.100428432, -0.154285997, 0, 0.185370937, 0.841192007, 2.48491573, 6],
             [-2.01087573e-06, -0.127710819, 0.13263011, 0.5, 0.732295513, 1.08296406, 1.03795171, 1]),
            (.silu, [-0.0334642529, -0.273638278, -0.188770339, 0, 0.172332764, 0.731058598, 2.31035447, 5.98516464],
             [-0.0265474338, -0.0412941612, 0.260038823, 0.5, 0.647780061, 0.927670538, 1.09940112, 1.01232624]),
        ]
        for (f, values, derivatives) in golden {
            var y = [Float](repeating: .nan, count: x.count), dx = y
            ActivationKernels.forward(f, x, &y, x.count)
            ActivationKernels.backward(f, x, [Float](repeating: 1, count: x.count), &dx, x.count)
            for i in x.indices {
                #expect(Swift.abs(y[i] - values[i]) <= 5e-7 * max(1, Swift.abs(values[i])), "\(f)(\(x[i]))")
                #expect(Swift.abs(dx[i] - derivatives[i]) <= 5e-7 * max(1, Swift.abs(derivatives[i])), "\(f)′(\(x[i]))")
            }
        }
    }

    /// Each element's bits depend only on its own x: not on the thread count, nor on where it
    /// sits in a 16-lane block (a partial last block, an offset start).
    @Test(arguments: [ActivationKernels.Function.silu, .geluTanh])
    func resultsDependOnlyOnTheInput(_ f: ActivationKernels.Function) {
        var rng = RandomGenerator(seed: 11)
        let x = Tensor.randn([300_001], using: &rng).data.map { $0 * 4 }
        func run(_ input: ArraySlice<Float>, threads: Int) -> [Float] {
            let saved = Parallel.threadCount
            defer { Parallel.threadCount = saved }
            Parallel.threadCount = threads
            let xs = Array(input)
            var y = [Float](repeating: 0, count: xs.count)
            ActivationKernels.forward(f, xs, &y, xs.count)
            return y
        }
        let one = run(x[...], threads: 1), three = run(x[...], threads: 3)
        #expect(one.map(\.bitPattern) == three.map(\.bitPattern))
        let shifted = run(x[5..<42], threads: 1)                   // 37 values starting mid-block
        #expect(shifted.map(\.bitPattern) == one[5..<42].map(\.bitPattern))
    }
}
