import AtomicFiles
import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

// Checkpoints: the safetensors format, to and from PyTorch's names, and the errors a user meets.

/// A path in a fresh folder of its own: tests run in parallel, and one test checks that its
/// folder holds no leftover temporary files (another test's half-written file would count).
func temporaryFile(_ name: String) -> URL {
    let dir = testScratchRoot.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name)
}

func smallModel(seed: UInt64) -> Unet {
    var rng = RandomGenerator(seed: seed)
    return Unet(dim: 8, dimMults: [1, 2], channels: 1, rng: &rng)
}

/// Runs `body`, expects a SafeTensorsError, returns its message.
func errorMessage(_ body: () throws -> Void) -> String {
    do { try body() } catch { return "\(error)" }
    Issue.record("expected an error")
    return ""
}

@Suite struct SafeTensorsTests {
    @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
        let a = smallModel(seed: 1), b = smallModel(seed: 2)
        #expect(a.parameters()[0].data != b.parameters()[0].data)
        let url = temporaryFile("round_trip.safetensors")
        try a.saveStateDict(to: url, metadata: ["format": "pt", "config": "dim 8"])
        try b.loadStateDict(url)
        for (p, q) in zip(a.parameters(), b.parameters()) { #expect(p.data == q.data) }
        let file = try SafeTensors.read(url)
        #expect(file.metadata == ["format": "pt", "config": "dim 8"])
        #expect(file.tensors.map(\.name) == a.namedParameters().map(\.name))
        // The header is padded to 8 bytes so the data section is aligned.
        let bytes = try Data(contentsOf: url)
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        #expect(bytes.count == 8 + n + 4 * a.parameterCount)
        // Written through a temporary file: nothing else is left in the folder.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(!leftovers.contains { $0.hasSuffix(".tmp") })
    }

    @Test func scalarsAndEmptyTensorsRoundTrip() throws {
        let tensors: [(name: String, tensor: Tensor)] = [("scalar", Tensor(scalar: 3.5)), ("empty", Tensor([], shape: [0, 4])),
                                                          ("weird \"name\"\\", Tensor([1, 2], shape: [2]))]
        let back = try SafeTensors.decode(SafeTensors.encode(tensors)).tensors
        #expect(back.map(\.name) == tensors.map(\.name))
        #expect(back.map(\.tensor.shape) == [[], [0, 4], [2]])
        #expect(back[0].tensor.item == 3.5 && back[2].tensor.data == [1, 2])
    }

    /// The weights fixtures are written by the Python script (by hand, like `safetensors.torch`).
    @Test func fileWrittenByPyTorchLoads() throws {
        let model = smallModel(seed: 3)
        try model.loadStateDict(fixtureFolder.appendingPathComponent("unet_small.weights.safetensors"), strict: true)
        let file = try SafeTensors.read(fixtureFolder.appendingPathComponent("unet_small.weights.safetensors"))
        #expect(file.metadata["dim"] == "8")
        #expect(model.initConv.weight.data == file.tensors.first { $0.name == "init_conv.weight" }!.tensor.data)
    }

    /// What PyTorch's `load_state_dict(strict=True)` checks — the same names and shapes — on a
    /// file written here, against the committed PyTorch list. (The fixture script's `--check`
    /// mode loads such a file into the PyTorch model itself.)
    @Test func fileWrittenHereHasPyTorchNamesAndShapes() throws {
        var rng = RandomGenerator(seed: 0)
        let model = Unet(dim: 28, dimMults: [1, 2, 4], channels: 1, rng: &rng)
        let url = temporaryFile("fashion.safetensors")
        try model.saveStateDict(to: url)
        let file = try SafeTensors.read(url)
        let reference = try PyTorchNames.load()
        #expect(Set(file.tensors.map(\.name)) == Set(reference.parameters.map(\.name)))
        let shapes = Dictionary(uniqueKeysWithValues: reference.parameters.map { ($0.name, $0.shape) })
        for (name, t) in file.tensors { #expect(shapes[name] == t.shape, "\(name)") }
    }

    @Test func truncatedFileNamesTheProblem() throws {
        let url = temporaryFile("truncated.safetensors")
        try smallModel(seed: 1).saveStateDict(to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 2).write(to: url)   // the last tensor loses 2 bytes
        let message = errorMessage { try smallModel(seed: 2).loadStateDict(url) }
        #expect(message.contains("truncated") && message.contains("final_conv"))
        try bytes.prefix(5).write(to: url)
        #expect(errorMessage { _ = try SafeTensors.read(url) }.contains("truncated"))
        try bytes.prefix(40).write(to: url)
        #expect(errorMessage { _ = try SafeTensors.read(url) }.contains("truncated"))
    }

    @Test func badHeaderAndDtypeAreReported() throws {
        func file(_ header: String, data: Int = 0) -> Data {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: Array(header.utf8))
            d.append(contentsOf: [UInt8](repeating: 0, count: data))
            return d
        }
        #expect(errorMessage { _ = try SafeTensors.decode(file("not json")) }.contains("bad header"))
        #expect(errorMessage { _ = try SafeTensors.decode(file(#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4)) }
            .contains("F16"))
        #expect(errorMessage { _ = try SafeTensors.decode(file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8)) }
            .contains("'w'"))
        #expect(errorMessage { _ = try SafeTensors.decode(file(#"{"w":{"dtype":"F32"}}"#)) }.contains("'w'"))
        #expect(errorMessage { _ = try SafeTensors.read(temporaryFile("does_not_exist.safetensors")) }.contains("no checkpoint at"))
    }

    @Test func mismatchedCheckpointsNameTheTensorAndLeaveTheModelUnchanged() throws {
        let url = temporaryFile("other_config.safetensors")
        var rng = RandomGenerator(seed: 1)
        try Unet(dim: 8, dimMults: [1, 2], channels: 3, rng: &rng).saveStateDict(to: url)   // RGB, not greyscale
        let model = smallModel(seed: 2)
        let before = model.initConv.weight.data
        let message = errorMessage { try model.loadStateDict(url) }
        #expect(message.contains("init_conv.weight") && message.contains("shape"))
        #expect(model.initConv.weight.data == before)

        let partial = model.namedParameters().dropLast()
        let missing = errorMessage { try model.loadStateDict(Array(partial), strict: true) }
        #expect(missing.contains("final_conv.bias") && missing.contains("lacks"))
        try model.loadStateDict(Array(partial), strict: false)                     // non-strict: fine

        let extra = model.namedParameters() + [("extra.weight", Tensor([1], shape: [1]))]
        #expect(errorMessage { try model.loadStateDict(extra, strict: true) }.contains("extra.weight"))
    }
}

/// Headers that lie: every one is refused with a sentence before any tensor memory is taken.
@Suite struct SafeTensorsHeaderChecks {
    /// A file with `header` (JSON text) and `dataBytes` zero bytes of data.
    static func file(_ header: String, dataBytes: Int) -> Data {
        var h = Array(header.utf8)
        h += [UInt8](repeating: 0x20, count: (8 - h.count % 8) % 8)
        var out = Data()
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out.append(contentsOf: $0) }
        return out + Data(h) + Data(count: dataBytes)
    }

    static func message(_ header: String, dataBytes: Int = 16) -> String {
        errorMessage { _ = try SafeTensors.decode(file(header, dataBytes: dataBytes), file: "x.safetensors") }
    }

    @Test func overflowingShapeIsRefused() {
        // 2^32 · 2^32 · 4 wraps to 0 in 64-bit arithmetic; an unchecked product would pass [0, 0].
        let text = Self.message(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#)
        #expect(text.contains("does not fit"), "\(text)")
        let big = Self.message(#"{"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,16]}}"#)
        #expect(big.contains("does not fit"), "\(big)")
    }

    @Test func nonIntegerShapesAndOffsetsAreRefused() {
        for shape in ["[2.5]", "[-1]", "[\"2\"]", "[1e300]"] {
            let text = Self.message(#"{"w":{"dtype":"F32","shape":"# + shape + #","data_offsets":[0,8]}}"#)
            #expect(text.contains("not all whole numbers"), "\(shape): \(text)")
        }
        let offsets = Self.message(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0.5,8]}}"#)
        #expect(offsets.contains("not all whole numbers"))
    }

    @Test func offsetsOutsideTheFileAndOverlapsAreRefused() {
        let outside = Self.message(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#)
        #expect(outside.contains("is truncated"), "\(outside)")
        let backwards = Self.message(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#)
        #expect(backwards.contains("end before they begin"), "\(backwards)")
        let overlap = Self.message(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#)
        #expect(overlap.contains("'a' and 'b' share bytes"), "\(overlap)")
        let hugeHeader = errorMessage {
            var d = Data(); withUnsafeBytes(of: UInt64.max.littleEndian) { d.append(contentsOf: $0) }
            _ = try SafeTensors.decode(d + Data(count: 8))
        }
        #expect(hugeHeader.contains("more than the 100000000"), "\(hugeHeader)")
    }

    @Test func validEdgeCasesStillLoad() throws {
        let d = Self.file(#"{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]}}"#, dataBytes: 4)
        let file = try SafeTensors.decode(d)
        #expect(file.tensors.map(\.name) == ["s", "e"] && file.tensors[1].tensor.shape == [0, 3])
    }

    @Test func readAndWriteErrorsSayWhatIsTrue() throws {
        let missingFolder = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/unet.safetensors")
        let write = errorMessage { try SafeTensors.write([("a", Tensor([1, 2]))], to: missingFolder) }
        #expect(write.contains("does not exist") && !write.contains("NSCocoaErrorDomain"), "\(write)")
        let read = errorMessage { _ = try SafeTensors.read(missingFolder) }
        #expect(read.contains("no checkpoint at"), "\(read)")
        let folder = temporaryFile("x").deletingLastPathComponent()
        let readFolder = errorMessage { _ = try SafeTensors.read(folder) }
        #expect(readFolder.contains("is a folder"), "\(readFolder)")
    }

    @Test func temporaryFilesAreNamedRegisteredAndSwept() throws {
        let url = temporaryFile("unet.safetensors")
        let folder = url.deletingLastPathComponent()
        let temporary = TemporaryFiles.url(for: url)
        #expect(temporary.lastPathComponent.hasPrefix(".unet.safetensors.tmp-\(getpid())-"))
        #expect(TemporaryFiles.owner(ofTemporaryName: temporary.lastPathComponent) == getpid())
        #expect(FileManager.default.createFile(atPath: temporary.path, contents: Data([1])))
        #expect(TemporaryFiles.registered.contains(temporary.path))
        TemporaryFiles.discard(temporary)
        #expect(!FileManager.default.fileExists(atPath: temporary.path) && !TemporaryFiles.registered.contains(temporary.path))
        // Left by killed runs (a PID that cannot exist), in the new and the old naming: swept.
        // Ours (this PID) and ordinary files stay.
        let dead = Int32.max - 7
        let names = [".a.png.tmp-\(dead)-12", ".unet.safetensors.\(dead).tmp", ".b.png.tmp-\(getpid())-1", "c.png", ".hidden"]
        for n in names { #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent(n).path, contents: Data())) }
        let swept = TemporaryFiles.sweepStale(in: folder)
        #expect(swept == [".a.png.tmp-\(dead)-12", ".unet.safetensors.\(dead).tmp"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == [".b.png.tmp-\(getpid())-1", ".hidden", "c.png"])
    }
}
