import Diffusion
import Foundation
import TinyTensor

/// `swift run -c release Benchmarks unets`: one training step of each of the course's three
/// U-Nets in their Fashion-MNIST configuration (dim 28, dimMults [1, 2, 4], one channel) — the
/// Annotated post's, the MindSpore port's and TwoResUNet — at batch 128 of 28×28: forward, MSE
/// loss on the noise, backward, Adam; each beside the same model in PyTorch on the CPU with the
/// same thread count, in the same run (Benchmarks/reference/torch_unet_step.py --model ...;
/// skipped if torch is missing). No breakdown here: `unet` gives it for the Annotated model.
enum UNetsBenchmark {
    static let batch = 128
    static let steps = 3
    /// Forward GFLOP per image (convolutions and matmuls, 2 per multiply-add), counted by
    /// torch.utils.flop_counter in Tests/DiffusionTests/Fixtures/make_seed_unets_fixture.py.
    static let forwardGFLOPPerImage: [UNetArchitecture: Double] = [.annotated: 0.510, .mindspore: 0.560, .tworesunet: 0.746]

    static func run(_ options: BenchmarkOptions) {
        print("== unets: one training step of each U-Net, dim 28, dimMults [1, 2, 4], channels 1, batch \(batch), 28×28, \(Parallel.threadCount) thread(s)")
        print("model          parameters   ours s/step (best)   PyTorch s/step (best)   ours / PyTorch")
        for architecture in UNetArchitecture.allCases where options.includes(architecture.rawValue) {
            var rng = RandomGenerator(seed: 0)
            let model = architecture.make(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
            let optimizer = Adam(model.parameters(), lr: 1e-3)
            let x = Tensor.randn([batch, 1, 28, 28], using: &rng)                   // [B, 1, 28, 28]
            let noise = Tensor.randn([batch, 1, 28, 28], using: &rng)               // [B, 1, 28, 28]
            let t = Tensor(rng.integers(count: batch, below: 300).map(Float.init)) // [B]
            func step() {
                optimizer.zeroGrad()
                let loss = mseLoss(model(x, t), noise)
                loss.backward()
                optimizer.step()
            }
            let times = Timing.eachCall(count: steps, step)             // after one warm-up step
            let ours = times.sorted()[times.count / 2]
            var line = architecture.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%10d   %8.2f (%.2f)", model.parameterCount, ours, times.min()!)
            if !options.noReference, let torch = torchSeconds(architecture, threads: options.threads) {
                let theirs = torch.sorted()[torch.count / 2]
                line += String(format: "        %8.2f (%.2f)          %.2f×", theirs, torch.min()!, ours / theirs)
            }
            let flops = 3 * forwardGFLOPPerImage[architecture]! * Double(batch)
            print(line + String(format: "   (≈ %.0f GFLOP/s ours)", flops / ours))
        }
    }

    /// Per-step seconds of the PyTorch model; nil (after saying why) when it cannot run.
    static func torchSeconds(_ architecture: UNetArchitecture, threads: Int) -> [Double]? {
        struct Output: Decodable { var torch: String; var threads: Int; var seconds: [Double] }
        return ReferenceScript.run("torch_unet_step.py",
                                   arguments: ["--threads", "\(threads)", "--batch", "\(batch)", "--steps", "\(steps)",
                                               "--model", architecture.rawValue],
                                   threads: threads, library: "PyTorch", as: Output.self)?.seconds
    }
}
