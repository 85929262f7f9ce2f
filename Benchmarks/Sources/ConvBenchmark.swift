import Foundation
import TinyTensor

/// `swift run -c release Benchmarks conv`: the U-Net's convolution-family ops beside PyTorch.
///
/// Shapes are those of the Fashion-MNIST U-Net at batch 128 (28×28 images, channels
/// 28 → 56 → 112 with a 168 → 112 decoder input): 3×3 convolutions with padding 1, 1×1
/// convolutions, ConvNeXt's depthwise 7×7, GroupNorm, and attention's softmax and batched
/// matrix products (one small product per image and head, with transposes). PyTorch
/// (CPU, same thread count) runs in a child process (Benchmarks/reference/torch_conv.py) in
/// the same benchmark run, so the ratio is fair on a busy machine.
///
/// FLOPs: a convolution's forward pass is 2·B·O·Ho·Wo·(C/groups)·k² operations; forward +
/// backward counts three times that (forward, dX and dW each cost one product of that size);
/// likewise 2·batch·M·N·K for a batched product.
/// GroupNorm and softmax are memory-bound: they show time only. "ours/torch" is PyTorch's
/// time over ours (above 1 means we are faster).
enum ConvBenchmark {
    struct Case: Codable {
        var name: String
        var kind: String          // "conv", "groupnorm", "softmax", "matmul"
        var mode: String          // "fwd", "fwdbwd"
        var shape: [Int]
        var out = 0, kernel = 0, padding = 0, groups = 1
        /// matmul: the right operand's shape and the transpose flags of `Tensor.matmul`.
        var other: [Int] = [], transposeSelf = false, transposeOther = false
        var flops: Double {
            if kind == "matmul" {
                let (m, k) = transposeSelf ? (shape[2], shape[1]) : (shape[1], shape[2])
                let n = transposeOther ? other[1] : other[2]
                return Double(2 * shape[0] * m * n * k) * (mode == "fwd" ? 1 : 3)
            }
            guard kind == "conv" else { return 0 }
            let forward = 2 * Double(shape[0] * out * shape[2] * shape[3] * (shape[1] / groups) * kernel * kernel)
            return mode == "fwd" ? forward : 3 * forward
        }
    }

    static let batch = 128

    static let cases: [Case] = {
        var list: [Case] = []
        func conv(_ label: String, _ c: Int, _ o: Int, _ size: Int, _ k: Int, groups: Int = 1) {
            for mode in ["fwd", "fwdbwd"] {
                list.append(Case(name: "\(label) \(mode)", kind: "conv", mode: mode, shape: [batch, c, size, size],
                                 out: o, kernel: k, padding: k / 2, groups: groups))
            }
        }
        conv("3×3 28→28 @28", 28, 28, 28, 3)
        conv("3×3 56→56 @14", 56, 56, 14, 3)
        conv("3×3 112→112 @7", 112, 112, 7, 3)
        conv("3×3 168→112 @7", 168, 112, 7, 3)
        conv("1×1 28→56 @28", 28, 56, 28, 1)
        conv("1×1 112→112 @7", 112, 112, 7, 1)
        conv("dw7×7 28 @28", 28, 28, 28, 7, groups: 28)
        conv("dw7×7 56 @14", 56, 56, 14, 7, groups: 56)
        list.append(Case(name: "groupnorm G=4 28@28 fwdbwd", kind: "groupnorm", mode: "fwdbwd",
                         shape: [batch, 28, 28, 28], groups: 4))
        list.append(Case(name: "groupnorm G=1 56@14 fwdbwd", kind: "groupnorm", mode: "fwdbwd",
                         shape: [batch, 56, 14, 14], groups: 1))
        list.append(Case(name: "softmax 4 heads 49² fwdbwd", kind: "softmax", mode: "fwdbwd", shape: [batch * 4, 49, 49]))
        list.append(Case(name: "softmax 4 heads 196² fwdbwd", kind: "softmax", mode: "fwdbwd", shape: [batch * 4, 196, 196]))
        // Linear attention at 28 × 28 (4 heads of 32): context = k·vᵀ, out = contextᵀ·q; full
        // attention at 7 × 7: sim = qᵀ·k, out = v·Aᵀ (Sources/Diffusion/Models/UNet/Attention.swift).
        func product(_ label: String, _ a: [Int], _ b: [Int], selfT: Bool = false, otherT: Bool = false) {
            for mode in ["fwd", "fwdbwd"] {
                list.append(Case(name: "\(label) \(mode)", kind: "matmul", mode: mode, shape: a, other: b,
                                 transposeSelf: selfT, transposeOther: otherT))
            }
        }
        product("bmm k·vᵀ 32×784 @28", [batch * 4, 32, 784], [batch * 4, 32, 784], otherT: true)
        product("bmm ctxᵀ·q 32×32 @28", [batch * 4, 32, 32], [batch * 4, 32, 784], selfT: true)
        product("bmm qᵀ·k 32×49 @7", [batch * 4, 32, 49], [batch * 4, 32, 49], selfT: true)
        product("bmm v·Aᵀ 49×49 @7", [batch * 4, 32, 49], [batch * 4, 49, 49], otherT: true)
        return list
    }()

    static func run(_ options: BenchmarkOptions) {
        print("== conv: the U-Net's ops at batch \(batch) vs PyTorch CPU (median of 7 samples; best in brackets), \(Parallel.threadCount) thread(s)")
        let chosen = cases.filter { options.includes($0.name) }
        let torch = options.noReference ? nil : torchTimings(threads: options.threads, cases: chosen)
        print("case".padding(toLength: 30, withPad: " ", startingAt: 0)
              + "   ours ms        ours GFLOP/s   torch ms       torch GFLOP/s  ours/torch")
        var rng = RandomGenerator(seed: 1)
        for c in chosen {
            let ours = time(c, &rng)
            var line = c.name.padding(toLength: 30, withPad: " ", startingAt: 0) + column(ms(ours)) + column(rate(c, ours))
            if let theirs = torch?[c.name] {
                line += column(ms(theirs)) + column(rate(c, theirs)) + String(format: "   %.2f", theirs.median / ours.median)
            }
            print(line)
        }
    }

    static func column(_ s: String) -> String { "   " + s.padding(toLength: 14, withPad: " ", startingAt: 0) }
    static func ms(_ t: Timing.Result) -> String { String(format: "%.2f (%.2f)", t.median * 1e3, t.best * 1e3) }
    static func rate(_ c: Case, _ t: Timing.Result) -> String {
        c.flops == 0 ? "-" : String(format: "%.1f (%.1f)", c.flops / t.median * 1e-9, c.flops / t.best * 1e-9)
    }

    /// Times one case of ours: the forward pass alone (no graph), or forward + backward.
    static func time(_ c: Case, _ rng: inout RandomGenerator) -> Timing.Result {
        let x = Tensor.randn(c.shape, using: &rng)                                   // [B, C, H, W]
        var params: [Tensor] = []
        let f: ([Tensor]) -> Tensor
        switch c.kind {
        case "conv":
            params = [Tensor.randn([c.out, c.shape[1] / c.groups, c.kernel, c.kernel], using: &rng) * 0.1,
                      Tensor.randn([c.out], using: &rng) * 0.1]
            f = { Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: c.padding, groups: c.groups) }
        case "groupnorm":
            params = [Tensor.ones([c.shape[1]]), Tensor.zeros([c.shape[1]])]
            f = { Tensor.groupNorm($0[0], groups: c.groups, weight: $0[1], bias: $0[2]) }
        case "matmul":
            params = [Tensor.randn(c.other, using: &rng)]
            f = { $0[0].matmul($0[1], transposeSelf: c.transposeSelf, transposeOther: c.transposeOther) }
        default:
            f = { $0[0].softmax(axis: -1) }
        }
        let leaves = [x] + params
        if c.mode == "fwd" { return Timing.measure { _ = noGrad { f(leaves) } } }
        for t in leaves { t.requiresGrad = true }
        let dy = Tensor.randn(noGrad { f(leaves) }.shape, using: &rng)
        return Timing.measure {
            for t in leaves { t.grad = nil }
            f(leaves).backward(dy)
        }
    }

    /// Runs the PyTorch script; nil (after saying why) when python3 or torch is missing.
    static func torchTimings(threads: Int, cases: [Case]) -> [String: Timing.Result]? {
        struct Output: Decodable {
            struct Entry: Decodable { var name: String; var best: Double; var median: Double }
            var torch: String
            var results: [Entry]
        }
        guard let output = ReferenceScript.run("torch_conv.py", arguments: ["\(threads)", ReferenceScript.json(cases)],
                                               threads: threads, library: "PyTorch", as: Output.self) else { return nil }
        print("PyTorch \(output.torch), \(threads) thread(s), timed in the same run")
        return Dictionary(uniqueKeysWithValues: output.results.map {
            ($0.name, Timing.Result(best: $0.best, median: $0.median))
        })
    }
}
