import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// The one sampler loop: each `Sampler` visits the steps it says, takes the step its formula
/// takes, and `sample` is exactly the loop a chapter writes out by hand.
@Suite struct SamplerTests {
    static let oracle = FastSamplingTests.gaussianOracle

    /// DDPMSampler's loop is Algorithm 2 written out with pSample: the same bits, the same
    /// random numbers, and the hook sees every step in order.
    @Test func ddpmSamplerIsTheWrittenOutLoop() throws {
        let d = try FastSamplingTests.diffusion(50)
        let eps = Self.oracle(d, 0.3, 0.5)
        for variance in ReverseVariance.allCases {
            var a = RandomGenerator(seed: 1), b = a
            let xT = Tensor.randn([6, 3], using: &a)
            _ = Tensor.randn([6, 3], using: &b)
            var seen: [Int] = []
            let sampled = DDPMSampler(d, variance: variance).sample(eps, from: xT, using: &a) { t, _ in seen.append(t) }
            var x = xT
            for t in (0..<50).reversed() { x = d.pSample(eps, x: x, t: t, variance: variance, using: &b) }
            #expect(sampled.data == x.data && a.counter == b.counter)
            #expect(seen == Array((0..<50).reversed()))
        }
    }

    /// DDIMSampler takes ddimStep to the next of its steps, and the last step to the clean end.
    @Test func ddimSamplerIsTheWrittenOutLoop() throws {
        let d = try FastSamplingTests.diffusion(100)
        let eps = Self.oracle(d, 0, 1)
        let steps = TimestepSpacing.trailing.timesteps(count: 7, of: 100)
        for eta in [0.0, 0.5, 1.0] {
            var a = RandomGenerator(seed: 2), b = a
            let xT = Tensor.randn([4, 5], using: &a)
            _ = Tensor.randn([4, 5], using: &b)
            let sampled = DDIMSampler(d, steps: steps, eta: eta, clip: true).sample(eps, from: xT, using: &a)
            var x = xT
            for (i, t) in steps.enumerated() {
                x = d.ddimStep(eps, x: x, t: t, tPrev: i + 1 < steps.count ? steps[i + 1] : -1, eta: eta, clip: true, using: &b)
            }
            #expect(sampled.data == x.data && a.counter == b.counter, "η = \(eta)")
        }
        #expect(DDIMSampler(d, steps: steps).networkPasses == 7)
    }

    /// Inversion visits the steps upwards and calls the network at all but the last.
    @Test func inversionStepsUpwards() throws {
        let d = try FastSamplingTests.diffusion(100)
        let inversion = DDIMInversion(d, steps: [90, 0, 45])
        #expect(inversion.ascending == [0, 45, 90] && inversion.timesteps == [0, 45] && inversion.networkPasses == 2)
        var rng = RandomGenerator(seed: 3)
        let x0 = Tensor.randn([2, 3], using: &rng)
        let eps = Self.oracle(d, 0, 1)
        let up = inversion.sample(eps, from: x0, using: &rng)
        let byHand = d.ddimInvertStep(eps, x: d.ddimInvertStep(eps, x: x0, t: 0, tNext: 45), t: 45, tNext: 90)
        #expect(up.data == byHand.data)
    }

    /// The ODE's grid ends at 0 whatever the stride, its last step is the x̂_0 denoise, and Heun
    /// counts two passes per step.
    @Test func probabilityFlowGridAndPasses() throws {
        let d = try FastSamplingTests.diffusion(250)
        let heun = ProbabilityFlowSampler(d, stride: 5, solver: .heun)
        #expect(heun.timesteps.first == 249 && heun.timesteps.last == 0 && heun.timesteps.count == 51)
        #expect(heun.networkPasses == 2 * 50 + 1)
        #expect(ProbabilityFlowSampler(d, stride: 5, solver: .euler).networkPasses == 51)
        #expect(PredictorCorrectorSampler(d, correctorSteps: 2).networkPasses == 250 + 2 * 249)
    }

    /// Plain Langevin is the written-out loop x ← x + (α/2) ∇log p + √α z; annealed Langevin
    /// lists each step's level and ends with the Tweedie step.
    @Test func langevinSamplersTakeTheirSteps() {
        let p = GaussianMixture2D.clusters()
        var a = RandomGenerator(seed: 5), b = a
        let start = Tensor.rand([50, 2], low: -6, high: 6, using: &a)
        _ = Tensor.rand([50, 2], low: -6, high: 6, using: &b)
        let alpha: Float = 0.01
        let sampled = LangevinSampler(stepSize: alpha, steps: 20).sample({ p.score($0) }, from: start, using: &a)
        var x = start
        for _ in 0..<20 {
            let z = Tensor.randn(x.shape, using: &b)
            x = x + (alpha / 2) * p.score(x) + alpha.squareRoot() * z
        }
        #expect(sampled.data == x.data)
        let annealed = AnnealedLangevinSampler(sigmas: [2, 1, 0.5], stepsPerLevel: 2, epsilon: 0.01)
        #expect(annealed.timesteps == [0, 0, 1, 1, 2, 2, 3] && annealed.networkPasses == 7)
        #expect(AnnealedLangevinSampler(sigmas: [2, 1], stepsPerLevel: 3, epsilon: 0.01, denoiseAtEnd: false).timesteps
                == [0, 0, 0, 1, 1, 1])
    }
}

/// The library names settings by key; a program writes them as its flags.
@Suite struct DiffusionErrorTests {
    @Test func settingsRenderInWordsOrAsFlags() {
        let error = DiffusionError("lower \(option: "batchSize", "the batch size") to \(16) or fewer.")
        #expect(error.description == "lower the batch size to 16 or fewer.")
        #expect(error.rendered(options: ["batchSize": "--batch-size"]) == "lower --batch-size to 16 or fewer.")
        #expect(error.optionKeys == ["batchSize"])
        #expect(DiffusionError("plain text").description == "plain text")
    }

    /// A recipe out of range names the field; the message never names a flag.
    @Test func recipeValidationNamesTheField() {
        var r = TrainingRecipe.improved
        r.learningRate = 2
        #expect { try r.validate() } throws: { error in
            guard let error = error as? DiffusionError else { return false }
            return error.optionKeys == ["learningRate"] && !error.description.contains("--")
                && error.rendered(options: ["learningRate": "--lr"]).hasPrefix("--lr must be in (0, 1)")
        }
    }
}
