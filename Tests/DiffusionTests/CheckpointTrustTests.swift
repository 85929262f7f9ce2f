import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// A checkpoint or weights file is read as untrusted input: every number in its metadata is
/// checked against what a run could have written, a recipe that does not read is refused (never
/// replaced), nothing that is not finite is loaded or written, and the tensors must tile the
/// data exactly.
@Suite struct CheckpointTrustTests {
    typealias TinyImages = TrainingTests.TinyImages

    /// A checkpoint of 3 steps of the tiny recipe, and its parts.
    static func checkpoint() throws -> (url: URL, tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        let trainer = try DiffusionTrainer(recipe: TrainingTests.recipe, dataset: TinyImages(), seed: 3)
        for _ in 0..<3 { try trainer.trainStep() }
        let url = try TrainingTests.folder().appendingPathComponent("checkpoint.safetensors")
        try TrainingCheckpoint.save(trainer, to: url)
        let file = try SafeTensors.read(url)
        return (url, file.tensors, file.metadata)
    }

    /// The same checkpoint with one metadata entry changed: resuming it throws `phrase`.
    func expectRefused(_ key: String, _ value: String, _ phrase: String) throws {
        let (url, tensors, metadata) = try Self.checkpoint()
        var edited = metadata
        edited[key] = value
        try SafeTensors.write(tensors, metadata: edited, to: url)
        #expect { try TrainingCheckpoint.resume(from: url, recipe: TrainingTests.recipe, dataset: TinyImages()) } throws: { error in
            "\(error)".contains(phrase)
        }
    }

    @Test func countersOutOfRangeAreRefused() throws {
        try expectRefused("adam_step", "-5", "'adam_step' is -5")
        try expectRefused("ema_updates", "-3", "'ema_updates' is -3")
        try expectRefused("adam_step", "4", "'adam_step' is 4 at step 3")
        try expectRefused("rng_counter", "18446744073709551615", "impossible generator position")
        try expectRefused("epoch_start_counter", "18446744073709551615", "impossible generator position")
    }

    @Test func recipesOutOfBoundsAreRefused() throws {
        var recipe = TrainingTests.recipe
        for (field, value) in [("numClasses", "-5"), ("numClasses", "0"), ("dim", "1000000"), ("timesteps", "1000000000")] {
            var object = try #require(JSONSerialization.jsonObject(with: Data(recipe.json.utf8)) as? [String: Any])
            object[field] = Int(value)!
            let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            try expectRefused("recipe", json, field == "numClasses" ? "classes" : field == "dim" ? "dim" : "T must be")
        }
        recipe.dim = 8
        try expectRefused("recipe", "{not json", "no readable recipe")
    }

    /// Weights with a recipe that does not read are refused, not sampled under another recipe.
    @Test func unreadableRecipeIsRefusedNotReplaced() throws {
        let (url, tensors, metadata) = try Self.checkpoint()
        var edited = metadata
        edited["recipe"] = #"{"timesteps": "many"}"#
        try SafeTensors.write(tensors, metadata: edited, to: url)
        #expect { try LoadedDenoiser(contentsOf: url, fallback: .improved) } throws: { "\($0)".contains("does not read") }
    }

    /// A weight that is NaN is refused with the count, on resume and on load.
    @Test func nonFiniteWeightsAreRefused() throws {
        let (url, tensors, metadata) = try Self.checkpoint()
        var damaged = tensors
        for prefix in ["model.", "ema."] {                      // sampling reads the EMA's weights
            let i = try #require(damaged.firstIndex { $0.name.hasPrefix(prefix) })
            var values = damaged[i].tensor.data
            values[0] = .nan; values[1] = .infinity
            damaged[i] = (damaged[i].name, Tensor(values, shape: damaged[i].tensor.shape))
        }
        try SafeTensors.write(damaged, metadata: metadata, to: url)
        #expect { try TrainingCheckpoint.resume(from: url, recipe: TrainingTests.recipe, dataset: TinyImages()) } throws: { error in
            "\(error)".contains("2 values in model that are not finite")
        }
        #expect { try LoadedDenoiser(contentsOf: url, fallback: .improved) } throws: { "\($0)".contains("not finite") }
    }

    /// A diverging run stops before its state stops being finite, and never writes a checkpoint that is not.
    @Test func divergenceStopsTraining() throws {
        var r = TrainingTests.recipe
        r.learningRate = 0.9
        r.warmupSteps = 0
        let trainer = try DiffusionTrainer(recipe: r, dataset: TinyImages(), seed: 0)
        var caught: Error?
        do { while !trainer.finished { try trainer.trainStep() } } catch { caught = error }
        let error = try #require(caught as? DiffusionError)
        #expect(error.optionKeys.contains("learningRate") && "\(error)".contains("diverged"), "\(error)")
        let file = try TrainingTests.folder().appendingPathComponent("checkpoint.safetensors")
        // Whatever state the run ended in, a save either writes finite numbers or refuses.
        do {
            try TrainingCheckpoint.save(trainer, to: file)
            let saved = try SafeTensors.read(file)
            #expect(saved.tensors.allSatisfy { $0.tensor.data.allSatisfy(\.isFinite) })
        } catch {
            #expect("\(error)".contains("not finite") && !FileManager.default.fileExists(atPath: file.path))
        }
    }

    /// The tensors must cover the data section exactly: bytes after the last tensor, or a header
    /// length one short (which shifts every tensor by a byte), are refused.
    @Test func dataSectionMustBeTiledExactly() throws {
        let data = SafeTensors.encode([("a", Tensor([1, 2, 3], shape: [3]))], metadata: [:])
        #expect(throws: Never.self) { _ = try SafeTensors.decode(data) }
        #expect { _ = try SafeTensors.decode(data + Data([0, 0, 0, 0])) } throws: { "\($0)".contains("after its last tensor") }
        var short = data
        let length = UInt64(littleEndian: short.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        withUnsafeBytes(of: (length - 1).littleEndian) { short.replaceSubrange(0..<8, with: $0) }
        #expect(throws: (any Error).self) { _ = try SafeTensors.decode(short) }
    }
}
