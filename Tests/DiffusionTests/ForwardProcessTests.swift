import Foundation
import Testing
import TinyTensor
import Diffusion

@Suite struct ForwardProcessTests {
    @Test func extractShapes() throws {
        let a = Tensor((0..<10).map { Float($0) * 0.5 })                      // [10]
        let e = GaussianDiffusion.extract(a, [3, 0, 9], [3, 2])
        #expect(e.shape == [3, 1])
        #expect(e.data == [1.5, 0, 4.5])
        #expect(GaussianDiffusion.extract(a, [1, 2], [2, 3, 28, 28]).shape == [2, 1, 1, 1])
        #expect(GaussianDiffusion.extract(a, [7], [1]).shape == [1])
    }

    /// Sample mean and variance of x_t over many draws from one x_0: √ᾱ_t x_0 and 1 − ᾱ_t.
    @Test func closedFormMoments() throws {
        let diffusion = GaussianDiffusion(schedule: try NoiseSchedule(.linear, timesteps: 250))
        var rng = RandomGenerator(seed: 11)
        let n = 40_000
        for t in [0, 49, 124, 249] {
            let x0 = Tensor.full([n, 2], 0).reshape([n, 2])
            let base = Tensor([4, -2], shape: [1, 2]).broadcast(to: [n, 2]) + x0   // every sample = (4, −2)
            let xt = diffusion.qSample(base, t: Array(repeating: t, count: n), using: &rng)
            let ab = Double(diffusion.schedule.alphasCumprod.data[t])
            let mean = xt.mean(axis: 0).data, variance = xt.variance(axes: [0]).data
            for (j, x0j) in [4.0, -2.0].enumerated() {
                let se = ((1 - ab) / Double(n)).squareRoot()
                #expect(abs(Double(mean[j]) - ab.squareRoot() * x0j) < 5 * se)
                let seVar = (1 - ab) * (2 / Double(n - 1)).squareRoot()
                #expect(abs(Double(variance[j]) - (1 - ab)) < 5 * seVar)
            }
        }
    }

    /// Running the chain x_t = √(1−β_t) x_{t−1} + √β_t ε step by step gives the same
    /// mean and variance as the closed form.
    @Test func markovChainAgreesWithClosedForm() throws {
        let diffusion = GaussianDiffusion(schedule: try NoiseSchedule(.cosine, timesteps: 100))
        var rng = RandomGenerator(seed: 5)
        let n = 20_000
        let x0 = Tensor([Float](repeating: 1.5, count: n), shape: [n, 1])
        for t in [0, 9, 59] {
            let chain = diffusion.qSampleByChain(x0, t: t, using: &rng)
            let closed = diffusion.qSample(x0, t: Array(repeating: t, count: n), using: &rng)
            let ab = Double(diffusion.schedule.alphasCumprod.data[t])
            let se = (2 * (1 - ab) / Double(n)).squareRoot()   // s.e. of a difference of two means
            #expect(abs(Double(chain.mean().item - closed.mean().item)) < 5 * se)
            let vc = Double(chain.variance().item), vq = Double(closed.variance().item)
            let seVar = (1 - ab) * (4 / Double(n - 1)).squareRoot()
            #expect(abs(vc - vq) < 5 * seVar, "t=\(t): chain variance \(vc), closed \(vq)")
            #expect(abs(Double(chain.mean().item) - 1.5 * ab.squareRoot()) < 5 * se)
        }
    }

    @Test func qSampleIsExactForGivenNoise() throws {
        let s = try NoiseSchedule(.linear, timesteps: 10)
        let d = GaussianDiffusion(schedule: s)
        let x0 = Tensor([1, 2, 3, 4], shape: [2, 2])
        let eps = Tensor([0.5, -1, 2, 0], shape: [2, 2])
        let xt = d.qSample(x0, t: [0, 9], noise: eps)
        let a = s.sqrtAlphasCumprod.data, b = s.sqrtOneMinusAlphasCumprod.data
        let expected: [Float] = [a[0] * 1 + b[0] * 0.5, a[0] * 2 - b[0], a[9] * 3 + b[9] * 2, a[9] * 4]
        for (g, e) in zip(xt.data, expected) { #expect(abs(g - e) < 1e-6) }
    }

    /// The posterior mean of Eq. 7 equals the mean of x_{t−1} given x_t and x_0 computed by
    /// Bayes' rule with Gaussians, and the variance is β̃_t.
    @Test func posteriorMatchesBayes() throws {
        let s = try NoiseSchedule(.linear, timesteps: 50)
        let d = GaussianDiffusion(schedule: s)
        let x0 = Tensor([0.7, -0.3], shape: [2, 1]), xt = Tensor([0.2, 1.1], shape: [2, 1])
        let t = [10, 30]
        let (mean, variance, logVariance) = d.qPosteriorMeanVariance(x0: x0, xt: xt, t: t)
        #expect(mean.shape == [2, 1] && variance.shape == [2, 1])
        let ds = s.doubleArrays
        for (b, ti) in t.enumerated() {
            // prior x_{t−1} | x_0 ~ N(√ᾱ_{t−1} x0, 1 − ᾱ_{t−1}); likelihood x_t | x_{t−1} ~ N(√α_t x_{t−1}, β_t).
            let abPrev = ds.alphasCumprodPrev[ti], alpha = ds.alphas[ti], beta = ds.betas[ti]
            let precision = 1 / (1 - abPrev) + alpha / beta
            let m = (abPrev.squareRoot() * Double(x0.data[b]) / (1 - abPrev)
                     + alpha.squareRoot() * Double(xt.data[b]) / beta) / precision
            #expect(abs(Double(mean.data[b]) - m) < 1e-5)
            #expect(abs(Double(variance.data[b]) - 1 / precision) < 1e-7)
            #expect(abs(Double(logVariance.data[b]) - log(1 / precision)) < 1e-4)
        }
    }
}
