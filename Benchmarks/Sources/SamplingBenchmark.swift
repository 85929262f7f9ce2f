import Diffusion
import Foundation
import TinyTensor

/// `swift run -c release Benchmarks sample`: what sampling costs with the Annotated U-Net
/// (Chapter 6): one forward pass at batch 64 under `noGrad` (median of 5), and one whole reverse
/// process of 64 images through T = 300 steps (Algorithm 2, run once), beside PyTorch under
/// `torch.no_grad()` with the same thread count, in the same run
/// (Benchmarks/reference/torch_unet_sample.py; skipped if torch is missing).
enum SamplingBenchmark {
    static let batch = 64
    static let timesteps = 300

    static func run(_ options: BenchmarkOptions) {
        print("== sample: Unet(dim 28, dimMults [1, 2, 4]) forward at batch \(batch) under no-grad, and a whole \(timesteps)-step reverse process, \(Parallel.threadCount) thread(s)")
        var rng = RandomGenerator(seed: 0)
        let model = Unet(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        model.eval()
        let x = Tensor.randn([batch, 1, 28, 28], using: &rng)                       // [64, 1, 28, 28]
        let t = Tensor(rng.integers(count: batch, below: timesteps).map(Float.init)) // [64]
        let forward = Timing.measure(warmup: 1, samples: 5, minSampleSeconds: 0) { _ = noGrad { model(x, t) } }
        print(String(format: "ours:    forward %.3f s (median; best %.3f)", forward.median, forward.best))
        breakdown { _ = noGrad { model(x, t) } }
        guard options.includes("whole") else { return }   // `--only forward` stops here
        let diffusion = GaussianDiffusion(schedule: try! NoiseSchedule(.linear, timesteps: timesteps))
        let start = Timing.now()
        let xT = Tensor.randn([batch, 1, 28, 28], using: &rng)
        _ = DDPMSampler(diffusion).sample(model.noisePredictor, from: xT, using: &rng)
        let whole = Timing.now() - start
        print(String(format: "ours:    whole reverse process %.1f s", whole))

        struct Output: Decodable { var torch: String; var threads: Int; var forward: [Double]; var whole: Double }
        guard !options.noReference,
              let torch = ReferenceScript.run("torch_unet_sample.py",
                                              arguments: ["--threads", "\(options.threads)", "--batch", "\(batch)", "--timesteps", "\(timesteps)"],
                                              threads: options.threads, library: "PyTorch", as: Output.self) else { return }
        let theirs = torch.forward.sorted()[torch.forward.count / 2]
        print("PyTorch \(torch.torch) on the CPU, \(torch.threads) thread(s), timed in the same run")
        print(String(format: "PyTorch: forward %.3f s (median; best %.3f), whole reverse process %.1f s", theirs, torch.forward.min()!, torch.whole))
        print(String(format: "ours / PyTorch: forward %.2f× the time, whole reverse process %.2f× the time", forward.median / theirs, whole / torch.whole))
    }

    /// Where one forward pass's time goes, by op name (from `OpProfiler`: the time between
    /// consecutive ops), slowest first.
    static func breakdown(_ forward: () -> Void) {
        OpProfiler.isEnabled = true
        OpProfiler.reset()
        let t0 = Timing.now()
        forward()
        let total = Timing.now() - t0
        OpProfiler.isEnabled = false
        let rows = OpProfiler.rows()
        print(String(format: "breakdown of one forward pass (%.3f s), slowest first:", total))
        for row in rows.prefix(12) {
            print("  " + row.name.padding(toLength: 18, withPad: " ", startingAt: 0),
                  String(format: "%7.1f ms  %5.1f %%  (%d calls)", row.seconds * 1e3, 100 * row.seconds / total, row.calls))
        }
    }
}
