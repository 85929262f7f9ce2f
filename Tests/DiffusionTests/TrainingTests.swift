import Foundation
import Testing
@testable import Diffusion
import TinyTensor

/// The trainer of Chapter 6 on a tiny synthetic dataset: checkpoints hold the whole state, a
/// resumed run ends with the bits of an uninterrupted one, and mismatches are refused.
@Suite struct TrainingTests {
    /// 24 random 1×8×8 "images" in [−1, 1].
    struct TinyImages: TrainingData {
        let data: [Float]
        init(count: Int = 24) {
            var rng = RandomGenerator(seed: 42)
            data = rng.uniform(count: count * 64, low: -1, high: 1)
        }
        var count: Int { data.count / 64 }
        func examples(_ indices: [Int]) -> Tensor {
            Tensor(indices.flatMap { data[($0 * 64)..<(($0 + 1) * 64)] }, shape: [indices.count, 1, 8, 8])
        }
    }

    static var recipe: TrainingRecipe {
        var r = TrainingRecipe.improved
        r.dim = 8; r.dimMults = [1, 2]; r.timesteps = 50; r.batchSize = 5; r.epochs = 2; r.warmupSteps = 2
        r.horizontalFlip = true      // the flips' coin tosses are part of what a resume must restore
        return r
    }

    static func folder() throws -> URL {
        let url = testScratchRoot.appendingPathComponent("training-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func bits(_ trainer: DiffusionTrainer) -> [[Float]] {
        trainer.model.parameters().map(\.data) + (trainer.ema?.shadow ?? []) + trainer.optimizer.state.m + trainer.optimizer.state.v
    }

    @Test func stepsPerEpochCountTheLastPartialBatch() throws {
        let trainer = try DiffusionTrainer(recipe: Self.recipe, dataset: TinyImages(), seed: 1)
        #expect(trainer.stepsPerEpoch == 5)          // ⌈24 / 5⌉, the last batch holds 4 images
        #expect(trainer.totalSteps == 10)
    }

    @Test func resumedRunEndsWithTheBitsOfAnUninterruptedOne() throws {
        let data = TinyImages()
        let straight = try DiffusionTrainer(recipe: Self.recipe, dataset: data, seed: 7)
        while !straight.finished { try straight.trainStep() }

        // Interrupted in the middle of an epoch (step 7 of 10, epoch 2), saved, resumed.
        let dir = try Self.folder()
        let file = dir.appendingPathComponent("checkpoint.safetensors")
        let first = try DiffusionTrainer(recipe: Self.recipe, dataset: data, seed: 7)
        for _ in 0..<7 { try first.trainStep() }
        try TrainingCheckpoint.save(first, to: file)
        let resumed = try TrainingCheckpoint.resume(from: file, recipe: Self.recipe, dataset: data)
        #expect(resumed.step == 7 && resumed.losses == first.losses)
        #expect(Self.bits(resumed) == Self.bits(first))
        while !resumed.finished { try resumed.trainStep() }
        #expect(Self.bits(resumed) == Self.bits(straight))
        #expect(resumed.losses == straight.losses)
    }

    @Test func checkpointAtAnEpochBoundaryResumesToo() throws {
        let data = TinyImages()
        let straight = try DiffusionTrainer(recipe: Self.recipe, dataset: data, seed: 3)
        while !straight.finished { try straight.trainStep() }
        let file = try Self.folder().appendingPathComponent("c.safetensors")
        let first = try DiffusionTrainer(recipe: Self.recipe, dataset: data, seed: 3)
        for _ in 0..<5 { try first.trainStep() }
        try TrainingCheckpoint.save(first, to: file)
        let resumed = try TrainingCheckpoint.resume(from: file, recipe: Self.recipe, dataset: data)
        while !resumed.finished { try resumed.trainStep() }
        #expect(Self.bits(resumed) == Self.bits(straight))
    }

    @Test func anotherRecipeOrDatasetIsRefusedNamingTheMismatch() throws {
        let data = TinyImages()
        let trainer = try DiffusionTrainer(recipe: Self.recipe, dataset: data, seed: 0)
        try trainer.trainStep()
        let file = try Self.folder().appendingPathComponent("c.safetensors")
        try TrainingCheckpoint.save(trainer, to: file)
        var other = Self.recipe
        other.learningRate = 2e-3
        #expect { try TrainingCheckpoint.resume(from: file, recipe: other, dataset: data) } throws: { error in
            "\(error)".contains("learningRate") && "\(error)".contains("another recipe")
        }
        #expect { try TrainingCheckpoint.resume(from: file, recipe: Self.recipe, dataset: TinyImages(count: 20)) } throws: { error in
            "\(error)".contains("24 images")
        }
    }

    @Test func samplingWeightsAreTheEMAUnderPyTorchNames() throws {
        let trainer = try DiffusionTrainer(recipe: Self.recipe, dataset: TinyImages(), seed: 0)
        for _ in 0..<3 { try trainer.trainStep() }
        let file = try Self.folder().appendingPathComponent("unet.safetensors")
        try TrainingCheckpoint.saveSamplingWeights(trainer, to: file)
        let saved = try SafeTensors.read(file)
        #expect(saved.tensors.map(\.name) == trainer.model.namedParameters().map(\.name))
        #expect(saved.tensors.map(\.tensor.data) == trainer.ema!.shadow)
        #expect(TrainingCheckpoint.recipe(in: saved.metadata) == Self.recipe)
        // The trained weights are back in the model afterwards.
        #expect(trainer.model.parameters().map(\.data) != trainer.ema!.shadow)
    }

    @Test func tooFewImagesForABatchIsOneSentence() throws {
        var r = Self.recipe
        r.batchSize = 30
        #expect { try DiffusionTrainer(recipe: r, dataset: TinyImages(), seed: 0) } throws: { error in
            "\(error)".contains("fewer than one batch")
        }
    }

    @Test func horizontalFlipMirrorsOnlyTheChosenImages() {
        let x = Tensor((0..<12).map(Float.init), shape: [2, 1, 2, 3])
        let y = ImageTransforms.horizontalFlip(x, where: [true, false])
        #expect(y.data == [2, 1, 0, 5, 4, 3, 6, 7, 8, 9, 10, 11])
    }
}
