import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// Chapter 8's pieces: the class-conditional U-Net, label dropout in the trainer, and
/// classifier-free guidance.
@Suite struct GuidanceTests {
    /// 30 random 1×8×8 "images" with labels 0, 1, 2, 0, 1, 2, ….
    struct LabeledTinyImages: LabeledTrainingData {
        let base = TrainingTests.TinyImages(count: 30)
        var count: Int { base.count }
        func examples(_ indices: [Int]) -> Tensor { base.examples(indices) }
        func labels(_ indices: [Int]) -> [Int] { indices.map { $0 % 3 } }
    }

    static func recipe(dropout: Double) -> TrainingRecipe {
        var r = TrainingTests.recipe
        r.numClasses = 3
        r.labelDropout = dropout
        return r
    }

    @Test func conditionalUnetAddsOneEmbeddingAndKeepsEveryOtherWeight() {
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let plain = Unet(dim: 8, dimMults: [1, 2], channels: 1, rng: &a)
        let conditional = Unet(dim: 8, dimMults: [1, 2], channels: 1, numClasses: 3, rng: &b)
        let names = conditional.namedParameters().map(\.name)
        #expect(names.filter { !plain.namedParameters().map(\.name).contains($0) } == ["label_emb.weight"])
        #expect(names.firstIndex(of: "label_emb.weight") == names.firstIndex(of: "time_mlp.3.bias")! + 1)
        #expect(conditional.labelEmb?.weight.shape == [4, 32])                 // 3 classes + ∅, time dim 4·8
        for ((_, p), (_, q)) in zip(plain.namedParameters(), conditional.namedParameters().filter { $0.name != "label_emb.weight" }) {
            #expect(p.data == q.data)
        }
        // The label changes the prediction; no label means the null class.
        var rng = RandomGenerator(seed: 4)
        let x = Tensor.randn([2, 1, 8, 8], using: &rng), t = Tensor([3, 7])
        let y0 = conditional(x, t, labels: [0, 0]), y1 = conditional(x, t, labels: [1, 1])
        #expect(y0.data != y1.data)
        #expect(conditional(x, t).data == conditional(x, t, labels: [3, 3]).data)
    }

    @Test func embeddingGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 5)
        let table = Embedding(4, 3, rng: &rng)
        let r = gradCheck([table.weight]) { _ in table([2, 0, 2, 3]) * table([1, 1, 0, 2]) }
        #expect(r.maxError < 2e-2, "\(r)")
    }

    /// w = 0 is the unconditional prediction and w = 1 the conditional one, bit for bit, even
    /// though both come from one pass over a doubled batch.
    @Test func guidanceScalesZeroAndOneAreTheUnconditionalAndConditionalPredictions() {
        var rng = RandomGenerator(seed: 6)
        let unet = Unet(dim: 8, dimMults: [1, 2], channels: 1, numClasses: 3, rng: &rng)
        let model: ConditionalNoisePredictor = { x, t, y in unet(x, Tensor(t.map(Float.init)), labels: y) }
        let x = Tensor.randn([3, 1, 8, 8], using: &rng), t = [5, 17, 40], y = [2, 0, 1]
        let conditional = noGrad { model(x, t, y) }
        let unconditional = noGrad { model(x, t, [3, 3, 3]) }
        let at = { (w: Double) in noGrad { classifierFreeGuidance(model, labels: y, nullLabel: 3, scale: w)(x, t) } }
        #expect(at(0).data == unconditional.data)
        #expect(at(1).data == conditional.data)
        // And in between, the straight line through them: w = 3 is ε_∅ + 3 (ε_y − ε_∅).
        let w3 = at(3)
        for i in 0..<x.count {
            let expected = unconditional.data[i] + 3 * (conditional.data[i] - unconditional.data[i])
            #expect(abs(w3.data[i] - expected) <= 1e-5 * max(1, abs(expected)))
        }
    }

    @Test func labelDropoutTrainsTheNullClass() throws {
        let data = LabeledTinyImages()
        for (dropout, expectNull) in [(0.0, false), (1.0, true)] {
            let trainer = try DiffusionTrainer(recipe: Self.recipe(dropout: dropout), dataset: data, seed: 1)
            try trainer.trainStep()
            let labels = try #require(trainer.lastLabels)
            #expect(labels.count == 5)
            #expect(labels.allSatisfy { ($0 == 3) == expectNull }, "dropout \(dropout): \(labels)")
        }
        // p = 0.5: about half of 30 labels over a whole epoch are dropped, the rest are the data's.
        let half = try DiffusionTrainer(recipe: Self.recipe(dropout: 0.5), dataset: data, seed: 2)
        var dropped = 0
        for _ in 0..<6 {
            try half.trainStep()
            dropped += half.lastLabels!.filter { $0 == 3 }.count
        }
        #expect(dropped > 5 && dropped < 25, "\(dropped) of 30")
        // An unconditional recipe draws no coins and keeps no labels.
        let plain = try DiffusionTrainer(recipe: TrainingTests.recipe, dataset: data, seed: 1)
        try plain.trainStep()
        #expect(plain.lastLabels == nil)
    }

    @Test func conditionalRecipesAreChecked() {
        var r = Self.recipe(dropout: 0.1)
        r.model = .tworesunet; r.block = .convnext
        #expect(throws: DiffusionError.self) { try r.validate() }
        var s = TrainingTests.recipe
        s.labelDropout = 0.2
        #expect(throws: DiffusionError.self) { try s.validate() }
        #expect(throws: DiffusionError.self) { try DiffusionTrainer(recipe: Self.recipe(dropout: 0.1), dataset: TrainingTests.TinyImages(), seed: 0) }
    }

    /// ∇_x log p_φ(y | x_t, t) by autograd against central differences at a few pixels.
    @Test func classifierGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 8)
        let classifier = NoisyFashionClassifier(rng: &rng)
        let x = Tensor.randn([2, 1, 28, 28], using: &rng), t = [10, 200], y = [3, 7]
        let gradient = classifier.logProbabilityGradient(x, t, labels: y)
        func logP(_ x: Tensor) -> Double {
            let lp = noGrad { classifier(x, t).logSoftmax(axis: 1) }
            return Double(lp.data[y[0]]) + Double(lp.data[10 + y[1]])
        }
        let h: Float = 1e-2
        for pixel in rng.integers(count: 12, below: x.count) {
            let plus = x.detached(), minus = x.detached()
            plus.data[pixel] += h
            minus.data[pixel] -= h
            let numeric = (logP(plus) - logP(minus)) / Double(2 * h)
            #expect(abs(numeric - Double(gradient.data[pixel])) < 1e-3 + 0.05 * abs(numeric),
                    "pixel \(pixel): autograd \(gradient.data[pixel]), differences \(numeric)")
        }
        #expect(classifier.parameters().allSatisfy { $0.grad == nil })      // the classifier is left untouched
        // The same inside a sampler's noGrad (enableGrad turns recording back on for it).
        #expect(noGrad { classifier.logProbabilityGradient(x, t, labels: y) }.data == gradient.data)
    }

    /// Scale 0 is Algorithm 2's step to the bit, with the same random numbers; a positive scale
    /// moves the mean by s σ_t² times the gradient.
    @Test func classifierGuidedStepWithScaleZeroIsPSample() throws {
        let d = GaussianDiffusion(schedule: try NoiseSchedule(.linear, timesteps: 50, rescaleLinear: true))
        let model: NoisePredictor = { x, _ in x * 0.3 }
        var rng = RandomGenerator(seed: 9)
        let x = Tensor.randn([2, 1, 28, 28], using: &rng)
        let ones: (Tensor, [Int]) -> Tensor = { x, _ in Tensor.ones(x.shape) }
        for t in [0, 1, 30, 49] {
            var a = RandomGenerator(seed: UInt64(t)), b = a, c = a
            let plain = d.pSample(model, x: x, t: t, using: &a)
            let unguided = d.classifierGuidedPSample(model, gradient: ones, scale: 0, x: x, t: t, using: &b)
            #expect(plain.data == unguided.data, "t = \(t)")
            let guided = d.classifierGuidedPSample(model, gradient: ones, scale: 2, x: x, t: t, using: &c)
            let shift = 2 * Double(d.schedule.posteriorVariance.data[t]) * (t == 0 ? 0 : 1)
            for i in 0..<x.count { #expect(abs(Double(guided.data[i] - plain.data[i]) - shift) < 1e-5) }
        }
    }
}
