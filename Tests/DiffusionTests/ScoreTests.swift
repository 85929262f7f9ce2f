import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// Chapter 9's pieces: the mixture's closed-form score, Langevin dynamics, denoising score
/// matching, and DDPM read as a score model (PC sampler, probability-flow ODE).
@Suite struct ScoreTests {
    /// The course's schedule of Chapter 4: T = 250, linear betas rescaled by 1000/T.
    static func diffusion() throws -> GaussianDiffusion {
        GaussianDiffusion(schedule: try NoiseSchedule(.linear, timesteps: 250, rescaleLinear: true))
    }

    /// E[ε | x_t] for x_0 from `p`, by a route that never differentiates: the posterior mean of
    /// x_0 per component (a Gaussian regression), averaged with the responsibilities, then
    /// ε = (x_t − √ᾱ x̂_0)/√(1 − ᾱ). Tweedie's formula says this is −√(1 − ᾱ) ∇ log q(x_t).
    static func posteriorNoise(_ p: GaussianMixture2D, _ x: Tensor, alphaBar: Double) -> Tensor {
        let a = alphaBar.squareRoot(), s2 = p.std * p.std, v = alphaBar * s2 + 1 - alphaBar
        let q = p.diffused(alphaBar: alphaBar)
        var out = [Float](repeating: 0, count: x.count)
        for i in 0..<x.shape[0] {
            let xt = (Double(x.data[2 * i]), Double(x.data[2 * i + 1]))
            let r = q.components(xt.0, xt.1, sigma: 0).r
            var mean = (0.0, 0.0)
            for (k, c) in p.centres.enumerated() {
                let gain = a * s2 / v                                      // Cov(x_0, x_t) / Var(x_t)
                mean.0 += r[k] * (c.x + gain * (xt.0 - a * c.x))
                mean.1 += r[k] * (c.y + gain * (xt.1 - a * c.y))
            }
            out[2 * i] = Float((xt.0 - a * mean.0) / (1 - alphaBar).squareRoot())
            out[2 * i + 1] = Float((xt.1 - a * mean.1) / (1 - alphaBar).squareRoot())
        }
        return Tensor(out, shape: x.shape)
    }

    /// The exact noise predictor of the clusters for a schedule: E[ε | x_t] at each t.
    static func exactNoisePredictor(_ p: GaussianMixture2D, _ d: GaussianDiffusion) -> NoisePredictor {
        { x, t in
            let alphaBar = d.schedule.doubleArrays.alphasCumprod[t[0]]
            return p.diffused(alphaBar: alphaBar).score(x) * Float(-(1 - alphaBar).squareRoot())
        }
    }

    @Test func closedFormScoreMatchesFiniteDifferencesOfLogDensity() {
        var rng = RandomGenerator(seed: 1)
        let p = GaussianMixture2D.clusters(weights: [3, 1, 1, 2, 1, 1, 1, 1])
        let points = Tensor.rand([200, 2], low: -6, high: 6, using: &rng)
        for sigma in [0.0, 0.3, 2.0] {
            let score = p.score(points, sigma: sigma)
            for i in 0..<points.shape[0] {
                let x = Double(points.data[2 * i]), y = Double(points.data[2 * i + 1]), h = 1e-5
                let dx = (p.components(x + h, y, sigma: sigma).logDensity - p.components(x - h, y, sigma: sigma).logDensity) / (2 * h)
                let dy = (p.components(x, y + h, sigma: sigma).logDensity - p.components(x, y - h, sigma: sigma).logDensity) / (2 * h)
                let scale = max(1, (dx * dx + dy * dy).squareRoot())
                #expect(abs(dx - Double(score.data[2 * i])) / scale < 1e-4, "σ \(sigma) at (\(x), \(y))")
                #expect(abs(dy - Double(score.data[2 * i + 1])) / scale < 1e-4, "σ \(sigma) at (\(x), \(y))")
            }
        }
        // The density integrates to 1 (a grid sum over the ±8 box, σ = 0.5).
        let ticks = (0..<321).map { -8 + Float($0) * 0.05 }
        let grid = Tensor(ticks.flatMap { y in ticks.flatMap { x in [x, y] } }, shape: [321 * 321, 2])
        let mass = p.logDensity(grid, sigma: 0.5).reduce(0) { $0 + exp($1) } * 0.05 * 0.05
        #expect(abs(mass - 1) < 1e-3)
    }

    /// Tweedie: the posterior-mean noise E[ε | x_t] equals −√(1 − ᾱ) ∇ log q(x_t), and
    /// `GaussianDiffusion.score` turns one into the other.
    @Test func bestNoisePredictionIsTheScaledScore() throws {
        let d = try Self.diffusion()
        let p = GaussianMixture2D.clusters()
        var rng = RandomGenerator(seed: 2)
        for t in [5, 60, 200] {
            let alphaBar = d.schedule.doubleArrays.alphasCumprod[t]
            let q = p.diffused(alphaBar: alphaBar)
            let x = q.sample(count: 300, using: &rng)                                // x_t ~ q(x_t)  [300, 2]
            let oracle: NoisePredictor = { x, _ in Self.posteriorNoise(p, x, alphaBar: alphaBar) }
            let score = d.score(oracle, x: x, t: t)
            let exact = q.score(x)
            let worst = zip(score.data, exact.data).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            #expect(worst < 1e-3, "t = \(t): worst relative gap \(worst)")
        }
    }

    @Test func geometricLevelsRunFromFirstToLast() {
        let sigmas = geometricNoiseLevels(first: 8, last: 0.02, count: 10)
        #expect(sigmas.count == 10 && abs(sigmas[0] - 8) < 1e-12 && abs(sigmas[9] - 0.02) < 1e-12)
        let ratios = zip(sigmas.dropFirst(), sigmas).map { $0 / $1 }
        #expect(ratios.allSatisfy { abs($0 - ratios[0]) < 1e-9 })
    }

    /// Song & Ermon's Section 3.2 on a mixture with one heavy cluster: plain Langevin keeps
    /// the basins' shares (~1/8 each), annealed Langevin finds most of the weight (30 %; it
    /// freezes at about 27 % where the clusters separate, see Chapter 9's README).
    @Test func annealingRecoversTheWeightsPlainLangevinMisses() {
        var rng = RandomGenerator(seed: 4)
        let p = GaussianMixture2D.clusters(weights: [3, 1, 1, 1, 1, 1, 1, 1])
        let start = Tensor.rand([2000, 2], low: -6, high: 6, using: &rng)
        let plain = LangevinSampler(stepSize: 0.005, steps: 300).sample({ p.score($0) }, from: start, using: &rng)
        let annealed = AnnealedLangevinSampler(sigmas: geometricNoiseLevels(first: 8, last: 0.02, count: 10),
                                               stepsPerLevel: 50, epsilon: 8e-5)
            .sample({ p.score($0, sigma: $1) }, from: start, using: &rng)
        func share(_ x: Tensor) -> Double {
            Toy2DMetrics.shares(Toy2DMetrics.nearestCentres(x, centres: p.floatCentres).index, count: 8)[0]
        }
        #expect(share(plain) < 0.2, "plain Langevin: \(share(plain))")
        #expect(share(annealed) > 0.23 && share(annealed) < 0.33, "annealed Langevin: \(share(annealed))")
        let m = Toy2DMetrics.nearestCentres(annealed, centres: p.floatCentres)
        #expect(m.distance.filter { $0 < 0.5 }.count >= 1980)
    }

    /// The DSM loss's minimiser is the score of the noised density: fit s(x) = a x + b to
    /// data from N(μ, s² I) at one σ and compare with ∇ log N(μ, (s² + σ²) I) = (μ − x)/(s² + σ²).
    @Test func denoisingScoreMatchingFindsTheNoisedScore() {
        var rng = RandomGenerator(seed: 5)
        let mu: (Float, Float) = (1.5, -0.5), s = 0.5, sigma = 0.8
        let gaussian = GaussianMixture2D(centres: [(Double(mu.0), Double(mu.1))], std: s)
        let x0 = gaussian.sample(count: 20_000, using: &rng)                          // [20000, 2]
        let z = Tensor.randn([20_000, 2], using: &rng)
        let a = Tensor([0], shape: [1]).requiringGrad(), b = Tensor([0, 0], shape: [1, 2]).requiringGrad()
        let optimizer = Adam([a, b], lr: 0.05)
        let sigmas = Array(repeating: sigma, count: 20_000)
        for _ in 0..<600 {
            optimizer.zeroGrad()
            denoisingScoreMatchingLoss({ x, _ in x * a + b }, x0: x0, sigmas: sigmas, noise: z).backward()
            optimizer.step()
        }
        let v = s * s + sigma * sigma
        #expect(abs(Double(a.item) + 1 / v) < 0.02 / v, "a = \(a.item), expected \(-1 / v)")
        #expect(abs(Double(b.data[0]) - Double(mu.0) / v) < 0.05 / v, "b = \(b.data), expected \(Double(mu.0) / v)")
        #expect(abs(Double(b.data[1]) - Double(mu.1) / v) < 0.05 / v, "b = \(b.data), expected \(Double(mu.1) / v)")
    }

    @Test func scoreNetworkShapesNamesAndGradients() {
        var rng = RandomGenerator(seed: 6)
        let net = NoiseConditionalScoreMLP(hidden: [16, 16], rng: &rng)
        #expect(net.namedParameters().map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.1.weight",
                                                       "layers.1.bias", "layers.2.weight", "layers.2.bias"])
        let x = Tensor.randn([4, 2], using: &rng)
        let s = net(x, sigmas: [0.1, 0.5, 1, 4])
        #expect(s.shape == [4, 2])
        // σ s_θ(x, σ) is the last layer's output: the same network at two σ differs only through its inputs.
        let loss = denoisingScoreMatchingLoss({ net($0, sigmas: $1) }, x0: x, sigmas: [0.1, 0.5, 1, 4],
                                              noise: Tensor.randn([4, 2], using: &rng))
        loss.backward()
        #expect(net.parameters().allSatisfy { $0.grad != nil && $0.grad!.data.allSatisfy(\.isFinite) })
    }

    /// With the exact noise predictor, both new samplers reproduce the clusters: the ODE
    /// deterministically, the PC sampler with its Langevin corrector.
    @Test func probabilityFlowAndPredictorCorrectorSampleTheClustersFromTheExactScore() throws {
        let d = try Self.diffusion()
        let p = GaussianMixture2D.clusters()
        let oracle = Self.exactNoisePredictor(p, d)
        var rng = RandomGenerator(seed: 7)
        let noise = Tensor.randn([400, 2], using: &rng)
        let ode = ProbabilityFlowSampler(d, stride: 5, solver: .heun).sample(oracle, from: noise, using: &rng)
        #expect(ProbabilityFlowSampler(d, stride: 5, solver: .heun).sample(oracle, from: noise, using: &rng).data == ode.data)   // deterministic
        let pc = PredictorCorrectorSampler(d).sample(oracle, from: noise, using: &rng)
        for (name, x) in [("ode", ode), ("pc", pc)] {
            let m = Toy2DMetrics.againstClusters(x, seed: 0)
            #expect(m.withinRadius > 0.99, "\(name): \(m.withinRadius)")
            #expect(m.shares.allSatisfy { abs($0 - 0.125) < 0.05 }, "\(name): \(m.shares)")
            #expect(m.energyDistance < 3 * m.energyDistanceFloor + 0.01, "\(name): \(m.energyDistance) vs \(m.energyDistanceFloor)")
        }
        // The solver's own error: against the ODE solved on every grid step with Heun, 50 Heun
        // steps land closer than 50 Euler steps (second order against first).
        let fine = ProbabilityFlowSampler(d, stride: 1, solver: .heun).sample(oracle, from: noise, using: &rng)
        let euler = ProbabilityFlowSampler(d, stride: 5, solver: .euler).sample(oracle, from: noise, using: &rng)
        func gap(_ x: Tensor) -> Float { zip(x.data, fine.data).map { abs($0 - $1) }.reduce(0, +) / Float(x.count) }
        #expect(gap(ode) < gap(euler) / 2, "heun \(gap(ode)) euler \(gap(euler))")
    }

    /// The predictor–corrector sampler on fewer steps: with no corrector it is the plain reverse
    /// sampler (on all T steps DDPM's Algorithm 2 to the bit, on a sub-grid the respaced DDPM
    /// sampler to the bit); with the exact noise predictor its 50 predictor steps and 49
    /// corrector steps sample the clusters.
    @Test func predictorCorrectorOnARespacedGrid() throws {
        let d = try Self.diffusion()
        let p = GaussianMixture2D.clusters()
        let oracle = Self.exactNoisePredictor(p, d)
        var seeded = RandomGenerator(seed: 5)
        let noise = Tensor.randn([300, 2], using: &seeded)                          // x_T  [300, 2]
        func run<S: Sampler>(_ s: S) -> Tensor where S.Model == NoisePredictor {
            var rng = RandomGenerator(seed: 11)
            return s.sample(oracle, from: noise, using: &rng)
        }
        #expect(run(PredictorCorrectorSampler(d, correctorSteps: 0)).data == run(DDPMSampler(d)).data)
        let grid = TimestepSpacing.trailing.timesteps(count: 50, of: 250)
        #expect(run(PredictorCorrectorSampler(d, steps: grid, correctorSteps: 0)).data == run(RespacedDDPMSampler(d, steps: grid)).data)
        let pc = PredictorCorrectorSampler(d, steps: grid)
        #expect(pc.networkPasses == 99)
        let m = Toy2DMetrics.againstClusters(run(pc), seed: 0)
        #expect(m.withinRadius > 0.99, "\(m.withinRadius)")
        #expect(m.shares.allSatisfy { abs($0 - 0.125) < 0.06 }, "\(m.shares)")
    }
}
