import ChapterSupport
import Diffusion
import Foundation
import TinyTensor

// MARK: - Evaluation: which clothes, and how real

/// The numbers of a sampling run (no timings, so the same seed writes the same bytes).
struct Metrics: Encodable {
    let samples: Int
    /// Mean and standard deviation of the sampled pixels (real Fashion-MNIST in [−1, 1]: about −0.43 and 0.71).
    let pixelMean: Float
    let pixelStd: Float
}

extension Chapter06 {
    func evaluate(samples: Tensor, out: OutputFolder, quick: Bool) throws -> Metrics {
        let n = samples.count
        let mean = samples.data.reduce(0, +) / Float(n)
        let std = (samples.data.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(n)).squareRoot()
        print(String(format: "pixels of the samples: mean %.3f, std %.3f", mean, std))
        return Metrics(samples: samples.shape[0], pixelMean: mean, pixelStd: std)
    }
}
