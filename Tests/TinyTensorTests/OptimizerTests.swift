import Foundation
import Testing
@testable import TinyTensor

/// Adam and AdamW against torch.optim step by step, and the schedules, clipping and EMA.
@Suite struct OptimizerTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var name: String, optimizer: String
            var lr: Float, betas: [Double], eps: Float
            var weight_decay: Float
            var after: [[[Float]]]      // [step][parameter][element]
        }
        var shapes: [[Int]]
        var initial: [[Float]]
        var grads: [[[Float]]]          // [step][parameter][element]
        var cases: [Case]
    }

    static func loadFixture() throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "adam_fixture", withExtension: "json",
                                                 subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test func adamAndAdamWMatchPyTorchStepByStep() throws {
        let fixture = try Self.loadFixture()
        #expect(fixture.cases.count == 4)
        for c in fixture.cases {
            let params = zip(fixture.initial, fixture.shapes).map { Tensor($0, shape: $1).requiringGrad() }
            let betas = (c.betas[0], c.betas[1])
            let opt: Adam = c.optimizer == "AdamW"
                ? AdamW(params, lr: c.lr, betas: betas, eps: c.eps, weightDecay: c.weight_decay)
                : Adam(params, lr: c.lr, betas: betas, eps: c.eps, weightDecay: c.weight_decay)
            for (step, expected) in c.after.enumerated() {
                for (p, g) in zip(params, fixture.grads[step]) { p.grad = Tensor(g, shape: p.shape) }
                opt.step()
                for (p, e) in zip(params, expected) {
                    expectClose(p.data, e, tol: 2e-6, "\(c.name) step \(step + 1)")
                }
            }
            #expect(opt.stepCount == c.after.count)
        }
    }

    @Test func stepSkipsParametersWithoutGradientAndZeroGradClears() {
        let a = Tensor([1, 2], shape: [2]).requiringGrad(), b = Tensor([3], shape: [1]).requiringGrad()
        let opt = Adam([a, b], lr: 0.1)
        a.grad = Tensor([1, -1], shape: [2])
        opt.step()
        // First Adam step moves each element by lr·sign(g) (m̂ = g, √v̂ = |g|).
        expectClose(a.data, [0.9, 2.1], tol: 1e-6)
        #expect(b.data == [3])
        opt.zeroGrad()
        #expect(a.grad == nil)
    }

    /// y = m·x + b from 64 noiseless points: Adam must find m = 2, b = −1 in a few hundred steps.
    @Test func fitsALineQuickly() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.rand([64, 1], low: -1, high: 1, using: &rng)       // [64, 1]
        let y = x * 2 - 1                                                  // [64, 1]
        let m = Tensor([0], shape: [1, 1]).requiringGrad(), b = Tensor([0], shape: [1]).requiringGrad()
        let opt = Adam([m, b], lr: 0.05)
        var loss: Float = 1
        for _ in 0..<500 {
            opt.zeroGrad()
            let l = mseLoss(Tensor.linear(x, weight: m, bias: b), y)
            l.backward()
            opt.step()
            loss = l.item
        }
        #expect(loss < 1e-6)
        #expect(Swift.abs(m.item - 2) < 1e-3 && Swift.abs(b.item + 1) < 1e-3)
    }

    @Test func clipGradNormMatchesHandComputedValues() {
        // Gradients (3, 4) and (12): total norm √(9 + 16 + 144) = 13.
        let a = Tensor([0, 0], shape: [2]), b = Tensor([0], shape: [1]), c = Tensor([0], shape: [1])
        a.grad = Tensor([3, 4], shape: [2]); b.grad = Tensor([12], shape: [1])
        let total = clipGradNorm([a, b, c], maxNorm: 6.5)
        #expect(Swift.abs(total - 13) < 1e-6)
        let k: Float = 6.5 / (13 + 1e-6)
        expectClose(a.grad!.data, [3 * k, 4 * k], tol: 1e-6)
        expectClose(b.grad!.data, [12 * k], tol: 1e-6)
        // Below the limit nothing changes.
        let again = clipGradNorm([a, b], maxNorm: 100)
        #expect(Swift.abs(again - 6.5) < 1e-5)
        expectClose(b.grad!.data, [12 * k], tol: 1e-7)
    }

    @Test func learningRateSchedulesGoldenValues() {
        #expect(LearningRateSchedule.constant(0.1)(12345) == 0.1)
        let cosine = LearningRateSchedule.cosine(peak: 1, floor: 0.1, steps: 100)
        #expect(cosine(0) == 1)
        #expect(Swift.abs(cosine(50) - 0.55) < 1e-6)                 // halfway: the mean of peak and floor
        #expect(Swift.abs(cosine(25) - (0.1 + 0.45 * (1 + Float(0.5.squareRoot())))) < 1e-6)
        #expect(Swift.abs(cosine(100) - 0.1) < 1e-7 && Swift.abs(cosine(500) - 0.1) < 1e-7)
        let warm = cosine.withWarmup(steps: 10)
        #expect(Swift.abs(warm(0) - 0.1) < 1e-7)                      // (0 + 1)/10 of the peak
        #expect(Swift.abs(warm(4) - 0.5) < 1e-7)
        #expect(warm(9) == 1 && warm(10) == 1)
        #expect(Swift.abs(warm(60) - 0.55) < 1e-6)
        #expect(LearningRateSchedule.constant(2).withWarmup(steps: 0) == .constant(2))
        #expect(LearningRateSchedule.constant(2).withWarmup(steps: 4)(1) == 1)
    }

    @Test func emaFollowsTheFormula() {
        let p = Tensor([0, 10], shape: [2])
        let ema = ExponentialMovingAverage([p], decay: 0.9, warmup: false)
        p.data = [1, 0]
        ema.update()                                   // 0.9·[0, 10] + 0.1·[1, 0]
        expectClose(ema.shadow[0], [0.1, 9], tol: 1e-6)
        ema.update()                                   // 0.9·[0.1, 9] + 0.1·[1, 0]
        expectClose(ema.shadow[0], [0.19, 8.1], tol: 1e-6)
        let seen = ema.withAveragedParameters { p.data }
        expectClose(seen, [0.19, 8.1], tol: 1e-6)
        #expect(p.data == [1, 0])
        let warm = ExponentialMovingAverage([p], decay: 0.999)
        #expect(Swift.abs(warm.currentDecay - 0.1) < 1e-7)          // (1 + 0)/(10 + 0)
    }
}
