import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// One trainer for the points of Chapter 4 and the images of Chapter 6.
@Suite struct UnifiedTrainerTests {
    static func toyTrainer(seed: UInt64, epochs: Int = 1, shuffle: Shuffle = .full) throws -> DiffusionTrainer {
        var recipe = TrainingRecipe.toyImproved
        recipe.epochs = epochs
        recipe.shuffle = shuffle
        recipe.width = 16
        var rng = RandomGenerator(seed: seed)
        let data = ToyDatasets.clusters(perCluster: 40, using: &rng)                 // [320, 2]
        let model = recipe.makeModel(dataShape: data.points.shape, rng: &rng)
        return try DiffusionTrainer(recipe: recipe, model: model, dataset: data, rng: rng, seed: seed)
    }

    /// Algorithm 1 written out as Chapters 4 and 6 write it gives the bits of `trainStep`.
    @Test func writtenOutLoopIsTrainStep() throws {
        let a = try Self.toyTrainer(seed: 7), b = try Self.toyTrainer(seed: 7)
        while !a.finished { try a.trainStep() }
        while !b.finished {
            let (x0, labels) = b.nextBatch()                                          // [B, 2]
            #expect(labels == nil)
            let t = b.drawTimesteps(count: x0.shape[0])
            let noise = Tensor.randn(x0.shape, using: &b.rng)
            let xt = b.diffusion.qSample(x0, t: t, noise: noise)
            try b.update(b.lossFunction(b.model.predictNoise(xt, t, labels: nil), noise))
        }
        #expect(a.losses == b.losses && a.rng.counter == b.rng.counter)
        for (p, q) in zip(a.model.parameters(), b.model.parameters()) { #expect(p.data == q.data) }
        #expect(a.step == 10 && a.stepsPerEpoch == 10)                              // 320 points, batch 32
    }

    /// Both shuffles visit every example once per epoch; the buffer keeps each batch in a window.
    @Test func shufflesArePermutations() {
        var rng = RandomGenerator(seed: 3)
        let full = Shuffle.full.order(1000, bufferSize: 100, using: &rng)
        let buffer = Shuffle.buffer.order(1000, bufferSize: 100, using: &rng)
        #expect(full.sorted() == Array(0..<1000) && buffer.sorted() == Array(0..<1000))
        // The k-th example out of a buffer of 100 is among the first k + 100 in.
        #expect(buffer.enumerated().allSatisfy { $0.element < $0.offset + 100 })
    }

    /// The learning rate of the 2-D preset decays by cosine to 1 % of its peak.
    @Test func toyPresetSchedule() throws {
        let trainer = try Self.toyTrainer(seed: 1, epochs: 3)
        #expect(trainer.learningRate == 1e-3)
        while !trainer.finished { try trainer.trainStep() }
        let last = trainer.recipe.learningRates(totalSteps: trainer.totalSteps)(trainer.totalSteps - 1)
        #expect(last > 1e-5 && last < 2e-5)
        #expect(TrainingRecipe.toyImproved.learningRateFloor == TrainingRecipe.toyImproved.learningRate / 100)
    }

    /// A recipe compared with a checkpoint's names the fields present on either side only.
    @Test func differencesLookBothWays() {
        let conditional = TrainingRecipe.conditional
        var plain = conditional
        plain.numClasses = nil
        plain.labelDropout = nil
        let differences = plain.differences(from: conditional)
        #expect(differences.contains { $0.hasPrefix("numClasses") } && differences.contains { $0.hasPrefix("labelDropout") })
        #expect(conditional.differences(from: plain).count == differences.count)
    }

    /// The MLP recipe reads back from its JSON, with its typed choices.
    @Test func toyRecipeRoundTrips() throws {
        let json = TrainingRecipe.toyTutorial.json
        #expect(json.contains(#""model":"mlp""#) && json.contains(#""shuffle":"buffer""#))
        let decoded = try JSONDecoder().decode(TrainingRecipe.self, from: Data(json.utf8))
        #expect(decoded == .toyTutorial)
    }
}
