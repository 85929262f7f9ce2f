import Diffusion
import Foundation
import TinyTensor

/// `swift run -c release Benchmarks unet`: one training step of the Annotated U-Net
/// (Fashion-MNIST configuration, 2,020,257 parameters) at batch 128 of 28×28 — forward,
/// MSE loss on the noise, backward, Adam — beside PyTorch on the CPU with the same thread
/// count, in the same run (Benchmarks/reference/torch_unet_step.py; skipped if torch is missing).
///
/// Then a breakdown of one of our steps by op kind, from `OpProfiler` (forward: time between
/// consecutive ops; backward: each op's backward closure; "autograd" is the rest of backward()).
/// The forward pass costs about 0.51 GFLOP per image, a training step about three times that.
enum UNetBenchmark {
    static let batch = 128
    static let steps = 3
    static let forwardGFLOPPerImage = 0.51

    static func run(_ options: BenchmarkOptions) {
        print("== unet: one training step, Unet(dim 28, dimMults [1, 2, 4], channels 1), batch \(batch), 28×28, \(Parallel.threadCount) thread(s)")
        var rng = RandomGenerator(seed: 0)
        let model = Unet(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        let optimizer = Adam(model.parameters(), lr: 1e-3)
        let x = Tensor.randn([batch, 1, 28, 28], using: &rng)                       // [B, 1, 28, 28]
        let noise = Tensor.randn([batch, 1, 28, 28], using: &rng)                   // [B, 1, 28, 28]
        let t = Tensor(rng.integers(count: batch, below: 300).map(Float.init))     // [B]

        var phases = (forward: 0.0, backward: 0.0, adam: 0.0)
        func step() {
            optimizer.zeroGrad()
            let t0 = Timing.now()
            OpProfiler.mark()
            let loss = mseLoss(model(x, t), noise)
            let t1 = Timing.now()
            loss.backward()
            let t2 = Timing.now()
            optimizer.step()
            let t3 = Timing.now()
            phases = (t1 - t0, t2 - t1, t3 - t2)
        }

        let times = Timing.eachCall(count: steps, step)             // after one warm-up step
        let ours = times.sorted()[times.count / 2]
        let flops = 3 * forwardGFLOPPerImage * Double(batch)
        print(String(format: "ours:    %.2f s/step (median of %d; best %.2f), ≈ %.0f GFLOP/s", ours, steps, times.min()!, flops / ours))

        if !options.noReference, let torch = torchSeconds(threads: options.threads) {
            let theirs = torch.sorted()[torch.count / 2]
            print(String(format: "PyTorch: %.2f s/step (median of %d; best %.2f), ≈ %.0f GFLOP/s", theirs, torch.count, torch.min()!, flops / theirs))
            print(String(format: "ours / PyTorch: %.2f× the time", ours / theirs))
        }

        // The breakdown of one more step.
        OpProfiler.isEnabled = true
        OpProfiler.reset()
        step()
        OpProfiler.isEnabled = false
        let rows = OpProfiler.rows()
        var byKind: [String: (forward: Double, backward: Double)] = [:]
        for row in rows {
            let isBackward = row.name.hasSuffix(" backward")
            let op = isBackward ? String(row.name.dropLast(" backward".count)) : row.name
            let kind = kindOf(op)
            var entry = byKind[kind] ?? (0, 0)
            if isBackward { entry.backward += row.seconds } else { entry.forward += row.seconds }
            byKind[kind] = entry
        }
        let closures = byKind.values.reduce(0) { $0 + $1.backward }
        let total = phases.forward + phases.backward + phases.adam
        print(String(format: "\nbreakdown of one step (%.2f s: forward %.2f, backward %.2f, adam %.2f)", total,
                     phases.forward, phases.backward, phases.adam))
        print("op kind                 forward s   backward s   share of step")
        var table = byKind.map { ($0.key, $0.value.forward, $0.value.backward) }
        table.append(("autograd bookkeeping", 0, max(0, phases.backward - closures)))
        table.append(("adam", phases.adam, 0))
        for (kind, f, b) in table.sorted(by: { $0.1 + $0.2 > $1.1 + $1.2 }) {
            print(kind.padding(toLength: 22, withPad: " ", startingAt: 0),
                  String(format: "%10.3f   %10.3f   %8.1f %%", f, b, 100 * (f + b) / total))
        }
        let top = rows.prefix(8).map { String(format: "%@ %.3f s (%d)", $0.name, $0.seconds, $0.calls) }
        print("slowest ops: " + top.joined(separator: ", "))
    }

    /// Groups op names (as passed to `Tensor.record`) into the kinds of the breakdown.
    static func kindOf(_ op: String) -> String {
        switch op {
        case "conv2d", "convTranspose2d": return "convolution"
        case "groupNorm": return "group norm"
        case "softmax", "matmul": return "attention (softmax, matmul)"
        case "linear": return "linear (time MLPs)"
        case "reshape", "permute", "concat", "slice", "select", "indexSelect", "upsampleNearest", "pixelUnshuffle",
             "broadcast", "transpose", "split", "chunk":
            return "shape & copy"
        case "mse_loss": return "loss"
        default: return "elementwise"
        }
    }

    /// Per-step seconds of the PyTorch reference; nil (after saying why) when it cannot run.
    static func torchSeconds(threads: Int) -> [Double]? {
        struct Output: Decodable { var torch: String; var threads: Int; var seconds: [Double] }
        guard let output = ReferenceScript.run("torch_unet_step.py",
                                               arguments: ["--threads", "\(threads)", "--batch", "\(batch)", "--steps", "\(steps)"],
                                               threads: threads, library: "PyTorch", as: Output.self) else { return nil }
        print("PyTorch \(output.torch) on the CPU, \(output.threads) thread(s), timed in the same run")
        return output.seconds
    }
}
