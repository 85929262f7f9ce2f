import Foundation
import Testing
@testable import Diffusion
import TinyTensor

/// Training recipes and the three U-Nets: which model a recipe builds, that the Annotated
/// recipes' JSON (kept in every checkpoint) did not change when the others arrived, the
/// TwoResUNet article's one t per batch, and exact resume for a non-Annotated model.
@Suite struct RecipeModelTests {
    typealias TinyImages = TrainingTests.TinyImages

    @Test func presetsBuildTheirOwnUNet() {
        var rng = RandomGenerator(seed: 0)
        #expect(TrainingRecipe.improved.makeUNet(rng: &rng) is Unet)
        #expect(TrainingRecipe.tutorial.makeUNet(rng: &rng) is Unet)
        #expect(TrainingRecipe.mindspore.makeUNet(rng: &rng) is MindSporeUnet)
        #expect(TrainingRecipe.tworesunet.makeUNet(rng: &rng) is TwoResUNet)
        #expect(TrainingRecipe.toyImproved.makeModel(dataShape: [8, 2], rng: &rng) is MLPDenoiser)
        let article = TrainingRecipe.tworesunet
        #expect(article.timesteps == 1000 && article.schedule == .linear && article.loss == .mse)
        #expect(article.emaDecay > 0 && article.oneTimestepPerBatch == true && article.batchSize == 16)
    }

    /// Recipes saved before `model` existed read as the Annotated model, and the Annotated
    /// recipes still write exactly those keys.
    @Test func annotatedRecipesKeepTheirJSON() throws {
        for recipe in [TrainingRecipe.improved, .tutorial] {
            #expect(!recipe.json.contains("model") && !recipe.json.contains("oneTimestepPerBatch"), "\(recipe.json)")
            let decoded = try JSONDecoder().decode(TrainingRecipe.self, from: Data(recipe.json.utf8))
            #expect(decoded == recipe && decoded.unetArchitecture == .annotated)
        }
        #expect(TrainingRecipe.mindspore.json.contains(#""model":"mindspore""#))
    }

    @Test func impossibleCombinationsAreOneSentence() {
        var r = TrainingRecipe.tworesunet
        r.block = .resnet
        #expect { try r.validate() } throws: { "\($0)".contains("made of ConvNeXt blocks") }
        // A recipe naming an unknown model (a damaged or foreign file) does not decode at all.
        let vit = TrainingRecipe.improved.json.replacingOccurrences(of: "{", with: #"{"model":"vit","#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrainingRecipe.self, from: Data(vit.utf8)) }
        r = .mindspore
        r.dimMults = [1]
        #expect { try r.validate() } throws: { "\($0)".contains("at least two levels") }
    }

    static func small(_ recipe: TrainingRecipe) -> TrainingRecipe {
        var r = recipe
        r.dim = 8; r.dimMults = [1, 2]; r.timesteps = 50; r.batchSize = 5; r.epochs = 2
        return r
    }

    @Test func oneTimestepPerBatchDrawsOneT() throws {
        let shared = try DiffusionTrainer(recipe: Self.small(.tworesunet), dataset: TinyImages(), seed: 3)
        var perImage = Self.small(.tworesunet)
        perImage.oneTimestepPerBatch = nil
        let separate = try DiffusionTrainer(recipe: perImage, dataset: TinyImages(), seed: 3)
        for _ in 0..<3 {
            try shared.trainStep()
            try separate.trainStep()
            #expect(Set(shared.lastTimesteps).count == 1 && shared.lastTimesteps.count == 5)
            #expect(Set(separate.lastTimesteps).count > 1)
        }
    }

    /// Stopped after 3 steps and resumed, a run of the MindSpore port's U-Net or of TwoResUNet
    /// ends with the bits of one that never stopped (the checkpoint holds their own names).
    @Test(arguments: [TrainingRecipe.mindspore, .tworesunet])
    func otherModelsResumeExactly(_ preset: TrainingRecipe) throws {
        let recipe = Self.small(preset), data = TinyImages()
        let straight = try DiffusionTrainer(recipe: recipe, dataset: data, seed: 5)
        while !straight.finished { try straight.trainStep() }
        let first = try DiffusionTrainer(recipe: recipe, dataset: data, seed: 5)
        for _ in 0..<3 { try first.trainStep() }
        let file = try TrainingTests.folder().appendingPathComponent("checkpoint.safetensors")
        try TrainingCheckpoint.save(first, to: file)
        let resumed = try TrainingCheckpoint.resume(from: file, recipe: recipe, dataset: data)
        while !resumed.finished { try resumed.trainStep() }
        #expect(TrainingTests.bits(resumed) == TrainingTests.bits(straight))
        #expect(resumed.losses == straight.losses)
    }
}
