import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// DDIM (Song et al. 2020), its timestep spacings, inversion, and respaced DDPM.
@Suite struct FastSamplingTests {
    static func diffusion(_ t: Int = 1000) throws -> GaussianDiffusion {
        GaussianDiffusion(schedule: try NoiseSchedule(.linear, timesteps: t))
    }

    /// The exact ε-predictor when every pixel of x_0 is N(μ, s²) independently:
    /// E[ε | x_t] = √(1 − ᾱ) (x_t − √ᾱ μ) / (ᾱ s² + 1 − ᾱ). With s = 0 it is a one-point data set.
    static func gaussianOracle(_ d: GaussianDiffusion, mean: Float, std: Float) -> NoisePredictor {
        { x, t in
            let ab = Float(d.schedule.doubleArrays.alphasCumprod[t[0]])
            let scale = (1 - ab).squareRoot() / (ab * std * std + 1 - ab)
            return (x - ab.squareRoot() * mean) * scale
        }
    }

    @Test func spacingsGiveTheDocumentedTimesteps() {
        #expect(TimestepSpacing.leading.timesteps(count: 10, of: 1000) == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0])
        #expect(TimestepSpacing.trailing.timesteps(count: 10, of: 1000) == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99])
        #expect(TimestepSpacing.linspace.timesteps(count: 10, of: 1000) == [999, 888, 777, 666, 555, 444, 333, 222, 111, 0])
        let quadratic = TimestepSpacing.quadratic.timesteps(count: 10, of: 1000)
        #expect(quadratic.first == 800 && quadratic.last == 0 && quadratic.count == 10)
        #expect(zip(quadratic, quadratic.dropFirst()).allSatisfy { $0 - $1 >= 1 })
        // Gaps shrink toward t = 0: the DDIM paper's dense end.
        #expect(quadratic[0] - quadratic[1] > quadratic[8] - quadratic[9])
        for spacing in [TimestepSpacing.leading, .trailing, .linspace] {        // (quadratic stops at 0.8 T by design)
            #expect(spacing.timesteps(count: 300, of: 300) == Array((0..<300).reversed()), "\(spacing)")
        }
    }

    /// η = 1 on the full chain is DDPM's ancestral step: same x_t, same z, same result.
    @Test func ddimWithEtaOneIsTheAncestralStep() throws {
        let d = try Self.diffusion(300)
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.randn([5, 4], using: &rng)
        let eps = Tensor.randn([5, 4], using: &rng)
        let model: NoisePredictor = { _, _ in eps }
        for t in [1, 2, 150, 299] {
            var a = RandomGenerator(seed: 11), b = RandomGenerator(seed: 11), c = RandomGenerator(seed: 11)
            let ddpm = d.pSample(model, x: x, t: t, variance: .posterior, using: &a)
            let ddim = d.ddimStep(model, x: x, t: t, tPrev: t - 1, eta: 1, using: &b)
            let respaced = d.respacedDDPMStep(model, x: x, t: t, tPrev: t - 1, using: &c)
            expectClose(ddim.data, ddpm.data, tol: 1e-4, "t = \(t)")
            expectClose(respaced.data, ddpm.data, tol: 1e-4, "t = \(t)")
        }
        // On a sub-sequence too: respaced DDPM and DDIM(η = 1) are one process.
        for (t, prev) in [(299, 200), (200, 100), (100, -1)] {
            var b = RandomGenerator(seed: 12), c = RandomGenerator(seed: 12)
            let ddim = d.ddimStep(model, x: x, t: t, tPrev: prev, eta: 1, using: &b)
            let respaced = d.respacedDDPMStep(model, x: x, t: t, tPrev: prev, using: &c)
            expectClose(ddim.data, respaced.data, tol: 1e-4, "\(t) → \(prev)")
        }
    }

    /// One η = 1 step's mean and variance over many z against DDIM Eq. 12 and Eq. 16.
    @Test func oneStepHasTheStatedMeanAndVariance() throws {
        let d = try Self.diffusion(1000)
        let n = 20_000
        let x = Tensor.full([n, 1], 0.7)
        let model: NoisePredictor = { x, _ in x * 0.5 }                         // any fixed function
        var rng = RandomGenerator(seed: 5)
        let (t, prev) = (600, 400)
        let y = d.ddimStep(model, x: x, t: t, tPrev: prev, eta: 1, using: &rng).data.map(Double.init)
        let ab = d.schedule.doubleArrays.alphasCumprod[t], abPrev = d.schedule.doubleArrays.alphasCumprod[prev]
        let eps = 0.35, x0 = (0.7 - (1 - ab).squareRoot() * eps) / ab.squareRoot()
        let variance = (1 - abPrev) / (1 - ab) * (1 - ab / abPrev)
        let mean = abPrev.squareRoot() * x0 + (1 - abPrev - variance).squareRoot() * eps
        let m = y.reduce(0, +) / Double(n)
        let v = y.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n - 1)
        #expect(abs(m - mean) < 4 * (variance / Double(n)).squareRoot(), "mean \(m) vs \(mean)")
        #expect(abs(v - variance) < 4 * variance * (2 / Double(n)).squareRoot(), "variance \(v) vs \(variance)")
    }

    /// Clipping keeps x̂_0 in [−1, 1] and re-derives ε so that x_t = √ᾱ x̂_0 + √(1 − ᾱ) ε still holds.
    @Test func clippedGuessStaysConsistent() throws {
        let d = try Self.diffusion(1000)
        var rng = RandomGenerator(seed: 4)
        let x = Tensor.randn([3, 8], using: &rng) * 2
        let wild: NoisePredictor = { x, _ in x * -3 }                          // guesses far outside [−1, 1]
        let (x0, eps) = d.predictStartAndNoise(wild, x: x, t: 500, clip: true)
        #expect(x0.data.allSatisfy { $0 >= -1 && $0 <= 1 })
        #expect(x0.data.contains { $0 == 1 || $0 == -1 })
        let ab = Float(d.schedule.doubleArrays.alphasCumprod[500])
        expectClose((x0 * ab.squareRoot() + eps * (1 - ab).squareRoot()).data, x.data, tol: 1e-4)
    }

    @Test func etaZeroIsDeterministicAndFindsTheDataPoint() throws {
        let d = try Self.diffusion(1000)
        let oracle = Self.gaussianOracle(d, mean: 0.4, std: 0)
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1)
        let steps = TimestepSpacing.trailing.timesteps(count: 10, of: 1000)
        let x1 = DDIMSampler(d, steps: steps).sample(oracle, from: Tensor.randn([3, 2], using: &a), using: &a)
        var consumed = b
        _ = Tensor.randn([3, 2], using: &consumed)
        let x2 = DDIMSampler(d, steps: steps).sample(oracle, from: Tensor.randn([3, 2], using: &b), using: &b)
        #expect(x1.data == x2.data)
        #expect(a.counter == consumed.counter)                                  // η = 0 draws only x_T
        expectClose(x1.data, [Float](repeating: 0.4, count: 6), tol: 1e-4)
    }

    /// Inversion then generation returns the image, closer with more steps (Gaussian data, exact ε).
    @Test func inversionThenGenerationRecoversTheImage() throws {
        let d = try Self.diffusion(1000)
        let oracle = Self.gaussianOracle(d, mean: 0, std: 0.5)
        var rng = RandomGenerator(seed: 8)
        let x0 = Tensor.randn([4, 16], using: &rng) * 0.5                       // [4, 16], from the data
        func error(_ count: Int) -> Float {
            let steps = TimestepSpacing.linspace.timesteps(count: count, of: 1000)
            var unused = RandomGenerator(seed: 0)                               // η = 0 draws nothing
            let xT = DDIMInversion(d, steps: steps).sample(oracle, from: x0, using: &unused)
            let back = DDIMSampler(d, steps: steps).sample(oracle, from: xT, using: &unused)
            return zip(back.data, x0.data).map { abs($0 - $1) }.max()!
        }
        let coarse = error(10), fine = error(200)
        // Measured: 0.037 at 200 steps (the first step treats x_0 as x at t = 0, where √(1 − ᾱ) = 0.01).
        #expect(fine < 0.05, "200 steps: \(fine)")
        #expect(fine < coarse, "200 steps \(fine) vs 10 steps \(coarse)")
    }
}
