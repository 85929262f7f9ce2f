import Diffusion
import Foundation
import TinyTensor

/// `swift run -c release Benchmarks mlp`: Chapter 4's training step and sampling loop beside
/// the same computation in PyTorch (CPU), timed in the same run.
///
/// - train step: batch of 32, t ~ U{0..T−1}, x_t = qSample, the tutorial's MLP, MSE,
///   backward, Adam (lr 1e-3), with T = 250.
/// - sampling: Algorithm 2 for 1000 points through all 250 steps (both layer by layer, under
///   `noGrad` / `no_grad`).
/// PyTorch runs in a child process (Benchmarks/reference/torch_mlp.py) with the same thread
/// count; when python3 or torch is missing the section says so and shows only ours.
enum MLPBenchmark {
    static let timesteps = 250, batch = 32, samples = 1000

    static func run(_ options: BenchmarkOptions) {
        print("== mlp: Chapter 4 training step and sampling, ours vs PyTorch CPU, \(Parallel.threadCount) thread(s)")
        var rng = RandomGenerator(seed: 1)
        let diffusion = GaussianDiffusion(schedule: try! NoiseSchedule(.linear, timesteps: timesteps))
        let model = MLPDenoiser(timesteps: timesteps, rng: &rng)
        let optimizer = Adam(model.parameters(), lr: 1e-3)
        let data = Tensor.randn([8000, 2], using: &rng) * 0.1 + 4                // [8000, 2]

        let step = Timing.measure {
            let rows = rng.integers(count: batch, below: 8000)
            let x0 = data.indexSelect(rows, axis: 0)                              // [32, 2]
            let t = rng.integers(count: batch, below: timesteps)
            let noise = Tensor.randn([batch, 2], using: &rng)                     // [32, 2]
            optimizer.zeroGrad()
            let loss = diffusion.pLosses(model.callAsFunction, x0: x0, t: t, noise: noise)
            loss.backward()
            optimizer.step()
        }
        let sampling = Timing.measure(warmup: 1, samples: 3, minSampleSeconds: 0) {
            _ = DDPMSampler(diffusion).sample(model.callAsFunction, from: Tensor.randn([samples, 2], using: &rng), using: &rng)
        }
        let torch = options.noReference ? nil : torchTimings(threads: options.threads)
        print("what".padding(toLength: 34, withPad: " ", startingAt: 0) + "        ours       PyTorch   PyTorch/ours")
        row("train step (batch 32), ms", ours: step, theirs: torch?.train_step, scale: 1e3)
        row("sample 1000 points × 250 steps, s", ours: sampling, theirs: torch?.sample, scale: 1)
        print(String(format: "(ours: 200 epochs × 250 steps = %.1f s of training at the median step time)",
                     step.median * 50_000))
    }

    static func row(_ name: String, ours: Timing.Result, theirs: TorchOutput.Result?, scale: Double) {
        var line = name.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: "%12.4f", ours.median * scale)
        if let theirs {
            line += String(format: "  %12.4f  %12.2f", theirs.median * scale, theirs.median / ours.median)
        }
        print(line)
    }

    struct TorchOutput: Decodable {
        struct Result: Decodable { var best: Double; var median: Double }
        var torch: String
        var train_step: Result
        var sample: Result
    }

    /// Runs the PyTorch script; nil (after saying why) when python3 or torch is missing.
    static func torchTimings(threads: Int) -> TorchOutput? {
        guard let output = ReferenceScript.run("torch_mlp.py", arguments: ["\(threads)", "\(timesteps)", "\(samples)"],
                                               threads: threads, library: "PyTorch", as: TorchOutput.self) else { return nil }
        print("PyTorch \(output.torch), \(threads) thread(s), timed in the same run")
        return output
    }
}
