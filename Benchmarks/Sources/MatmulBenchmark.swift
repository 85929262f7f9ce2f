import Foundation
import TinyTensor

/// `swift run -c release Benchmarks matmul`: GFLOP/s of `gemm` beside numpy's matmul.
///
/// Shapes: squares from 64 to 2048, and the MLP denoiser's products at batch 32
/// (forward y = x·Wᵀ, and the two backward products dX = dY·W and dW = dYᵀ·X).
/// numpy runs in a child process (Benchmarks/reference/numpy_matmul.py) in the same
/// benchmark run, with the same thread count, so the ratio is fair even on a busy machine.
/// A product of [M, K] by [K, N] counts 2·M·N·K floating-point operations.
enum MatmulBenchmark {
    struct Shape: Codable {
        var name: String
        var m: Int, n: Int, k: Int
        var transA: Bool, transB: Bool
        var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// The shapes, in table order.
    static let shapes: [Shape] = {
        var list = [64, 128, 256, 512, 1024, 2048].map {
            Shape(name: "\($0)³", m: $0, n: $0, k: $0, transA: false, transB: false)
        }
        let batch = 32
        // MLP layers (in → out); W is stored [out, in] as in PyTorch's nn.Linear.
        for (input, output) in [(2, 128), (256, 128), (128, 64), (64, 32), (32, 16), (16, 2)] {
            let layer = "\(input)→\(output)"
            list.append(Shape(name: "\(layer) fwd x·Wᵀ", m: batch, n: output, k: input, transA: false, transB: true))
            list.append(Shape(name: "\(layer) dX=dY·W", m: batch, n: input, k: output, transA: false, transB: false))
            list.append(Shape(name: "\(layer) dW=dYᵀ·X", m: output, n: input, k: batch, transA: true, transB: false))
        }
        return list
    }()

    static func run(_ options: BenchmarkOptions) {
        print("== matmul: gemm vs numpy, GFLOP/s (median of 7 samples; best in brackets), \(Parallel.threadCount) thread(s)")
        let chosen = shapes.filter { options.includes($0.name) }
        let numpy = options.noReference ? nil : numpyTimings(threads: options.threads, shapes: chosen)
        print(left("shape", 22) + right("M", 5) + right("N", 6) + right("K", 6)
              + right("ours GFLOP/s", 16) + right("numpy GFLOP/s", 16) + right("ours/numpy", 12))
        var random = RandomGenerator(seed: 1)
        for shape in chosen {
            let ours = timeGemm(shape, &random)
            var line = left(shape.name, 22) + right("\(shape.m)", 5) + right("\(shape.n)", 6)
                + right("\(shape.k)", 6) + right(rate(shape, ours), 16)
            if let theirs = numpy?[shape.name] {
                line += right(rate(shape, theirs), 16) + right(String(format: "%.2f", theirs.median / ours.median), 12)
            }
            print(line)
        }
    }

    /// "123.4 (130.2)": GFLOP/s at the median and (best) time.
    static func rate(_ shape: Shape, _ t: Timing.Result) -> String {
        String(format: "%.1f (%.1f)", shape.flops / t.median * 1e-9, shape.flops / t.best * 1e-9)
    }

    static func left(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }

    static func right(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - text.count)) + text
    }

    static func timeGemm(_ s: Shape, _ random: inout RandomGenerator) -> Timing.Result {
        let a = random.normal(count: s.m * s.k)
        let b = random.normal(count: s.k * s.n)
        var c = [Float](repeating: 0, count: s.m * s.n)
        let lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Timing.measure {
                        gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                             a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                             beta: 0, c: pc.baseAddress!, ldc: s.n)
                    }
                }
            }
        }
    }

    /// Runs the numpy script; nil (after saying why) when python3 or numpy is missing.
    static func numpyTimings(threads: Int, shapes: [Shape]) -> [String: Timing.Result]? {
        struct Output: Decodable {
            struct Entry: Decodable { var name: String; var best: Double; var median: Double }
            var numpy: String
            var results: [Entry]
        }
        guard let output = ReferenceScript.run("numpy_matmul.py", arguments: [ReferenceScript.json(shapes)],
                                               threads: threads, library: "numpy", as: Output.self) else { return nil }
        print("numpy \(output.numpy), \(threads) thread(s), timed in the same run")
        return Dictionary(uniqueKeysWithValues: output.results.map {
            ($0.name, Timing.Result(best: $0.best, median: $0.median))
        })
    }
}
