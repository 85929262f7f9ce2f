import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// The reverse process (Algorithm 2) and the training loss (Algorithm 1).
@Suite struct SamplingTests {
    static func diffusion(_ t: Int = 50) throws -> GaussianDiffusion {
        GaussianDiffusion(schedule: try NoiseSchedule(.linear, timesteps: t, rescaleLinear: true))
    }

    /// Algorithm 2's step equals the posterior mean μ̃(x̂₀, x_t) of the 2D tutorial.
    @Test func pSampleEqualsThePosteriorMeanForm() throws {
        let d = try Self.diffusion()
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.randn([6, 2], using: &rng)
        let eps = Tensor.randn([6, 2], using: &rng)
        let model: NoisePredictor = { _, _ in eps }
        for t in [0, 1, 25, 49] {
            var r1 = RandomGenerator(seed: 9)
            let mine = d.pSample(model, x: x, t: t, variance: .posterior, using: &r1)
            // Tutorial: x̂₀ = √(1/ᾱ) x − √(1/ᾱ − 1) ε; mean = c1 x̂₀ + c2 x; + exp(½ log β̃) z (not at t = 0).
            let steps = Array(repeating: t, count: 6)
            let x0 = GaussianDiffusion.extract(d.schedule.sqrtRecipAlphasCumprod, steps, x.shape) * x
                - GaussianDiffusion.extract(d.schedule.sqrtRecipm1AlphasCumprod, steps, x.shape) * eps
            let posterior = d.qPosteriorMeanVariance(x0: x0, xt: x, t: steps)
            var r2 = RandomGenerator(seed: 9)
            let z = t == 0 ? Tensor.zeros([6, 2]) : Tensor.randn([6, 2], using: &r2)
            let theirs = posterior.mean + (posterior.logVariance * 0.5).exp() * z
            expectClose(mine.data, theirs.data, tol: 2e-4, "t = \(t)")
        }
    }

    /// With the exact noise predictor of a one-point data set, ε*(x_t, t) = (x_t − √ᾱ_t x₀)/√(1 − ᾱ_t),
    /// the reverse process must land on x₀.
    @Test func oraclePredictorRecoversTheDataPoint() throws {
        let d = try Self.diffusion(100)
        let target: [Float] = [2, -3]
        let s = d.schedule
        let oracle: NoisePredictor = { x, t in
            let a = s.sqrtAlphasCumprod.data[t[0]], b = s.sqrtOneMinusAlphasCumprod.data[t[0]]
            return Tensor((0..<x.count).map { (x.data[$0] - a * target[$0 % 2]) / b }, shape: x.shape)
        }
        for variance in ReverseVariance.allCases {
            var rng = RandomGenerator(seed: 3)
            var trajectory = [Tensor.randn([20, 2], using: &rng)]
            let x = DDPMSampler(d, variance: variance).sample(oracle, from: trajectory[0], using: &rng) { trajectory.append($1) }
            #expect(trajectory.count == 101)
            #expect(trajectory.last!.data == x.data)
            for i in 0..<20 {
                #expect(Swift.abs(x[i, 0] - 2) < 1e-3 && Swift.abs(x[i, 1] + 3) < 1e-3, "\(variance): \(x[i, 0]), \(x[i, 1])")
            }
        }
    }

    @Test func pLossesIsTheMSEOfThePredictedNoise() throws {
        let d = try Self.diffusion()
        var rng = RandomGenerator(seed: 5)
        let x0 = Tensor.randn([8, 2], using: &rng), noise = Tensor.randn([8, 2], using: &rng)
        let t = rng.integers(count: 8, below: 50)
        // A model that predicts zero: the loss is the mean of ε².
        let zero: NoisePredictor = { x, _ in x * 0 }
        let l = d.pLosses(zero, x0: x0, t: t, noise: noise)
        let expected = noise.data.map { $0 * $0 }.reduce(0, +) / 16
        #expect(Swift.abs(l.item - expected) < 1e-5)
        // A model that subtracts the signal exactly: zero loss.
        let oracle: NoisePredictor = { x, t in
            (x - GaussianDiffusion.extract(d.schedule.sqrtAlphasCumprod, t, x.shape) * x0)
                / GaussianDiffusion.extract(d.schedule.sqrtOneMinusAlphasCumprod, t, x.shape)
        }
        #expect(d.pLosses(oracle, x0: x0, t: t, noise: noise).item < 1e-8)
    }
}
