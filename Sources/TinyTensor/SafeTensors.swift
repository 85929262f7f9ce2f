import AtomicFiles
import Foundation

/// Checkpoints in the safetensors format (Hugging Face), readable by PyTorch, numpy and
/// every other tool that speaks it:
///
///     [8 bytes]  N, the header length, unsigned 64-bit little-endian
///     [N bytes]  JSON: {"name": {"dtype": "F32", "shape": [28, 1, 1, 1], "data_offsets": [begin, end]},
///                       ..., "__metadata__": {"key": "value"}}   (padded with spaces to a multiple of 8)
///     [rest]     the tensors' raw little-endian bytes; `data_offsets` count from the end of the header
///
/// Names are PyTorch state_dict names (`downs.0.0.block1.proj.weight`), so a file written here
/// loads into the PyTorch reference with `model.load_state_dict(..., strict=True)`.
/// Only float32 ("F32") tensors are read and written.
public enum SafeTensors {
    /// Reads every tensor of a file, in file order, and its `__metadata__`.
    public static func read(_ url: URL) throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        return try decode(readBytes(url), file: url.lastPathComponent)
    }

    /// The bytes of a file, or one sentence naming what is wrong (missing, a folder, not readable).
    static func readBytes(_ url: URL) throws -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw SafeTensorsError("no checkpoint at \(url.path); check the path.")
        }
        guard !isFolder.boolValue else {
            throw SafeTensorsError("\(url.path) is a folder, not a safetensors file; pass the path of the .safetensors file.")
        }
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            let reason = String(cString: strerror(errno))
            throw SafeTensorsError("cannot open \(url.path) (\(reason)); check its permissions (chmod a+r).")
        }
        defer { try? handle.close() }
        do { return try handle.readToEnd() ?? Data() } catch {
            throw SafeTensorsError("reading \(url.path) failed (\(String(cString: strerror(errno)))); check the disk and re-save the checkpoint.")
        }
    }

    /// Parses safetensors bytes; `file` names the source in error messages.
    public static func decode(_ bytes: Data, file: String = "checkpoint") throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        guard bytes.count >= 8 else {
            throw SafeTensorsError("\(file) is truncated: \(bytes.count) bytes, fewer than the 8-byte header length; the file was cut off or is not a safetensors checkpoint.")
        }
        let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= maxHeaderLength else {
            throw SafeTensorsError("\(file) is not a safetensors file: its header claims \(headerLength) bytes, more than the \(maxHeaderLength) the format allows; re-save the checkpoint.")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError("\(file) is truncated or not a safetensors file: its header claims \(headerLength) bytes but only \(bytes.count - 8) follow; re-save the checkpoint.")
        }
        let start = bytes.startIndex
        let headerData = bytes.subdata(in: start + 8 ..< start + 8 + Int(headerLength))
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw SafeTensorsError("\(file) has a bad header: its \(headerLength) header bytes are not a JSON object; the file is corrupt or not a safetensors checkpoint.")
        }
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let dict = meta as? [String: Any] else {
                throw SafeTensorsError("\(file) has a bad header: __metadata__ is not an object of strings; re-save the checkpoint.")
            }
            for (k, v) in dict { metadata[k] = v as? String ?? "\(v)" }
        }
        let dataStart = 8 + Int(headerLength)
        let dataCount = bytes.count - dataStart
        var entries: [(name: String, begin: Int, end: Int, shape: [Int])] = []
        // Sorted so the first problem reported is the same on every run.
        for (name, value) in header.sorted(by: { $0.key < $1.key }) where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let rawShape = info["shape"] as? [Any], let rawOffsets = info["data_offsets"] as? [Any],
                  rawOffsets.count == 2 else {
                throw SafeTensorsError("\(file) has a bad header: tensor '\(name)' lacks a dtype, shape or data_offsets pair; the file is corrupt.")
            }
            guard dtype == "F32" else {
                throw SafeTensorsError("\(file): tensor '\(name)' has dtype \(dtype), but only F32 is supported; convert the checkpoint to float32 (in PyTorch: {k: v.float() for k, v in state.items()}).")
            }
            let shape = rawShape.compactMap(wholeNumber), offsets = rawOffsets.compactMap(wholeNumber)
            guard shape.count == rawShape.count, offsets.count == 2 else {
                throw SafeTensorsError("\(file) has a bad header: tensor '\(name)' has shape \(rawShape) and offsets \(rawOffsets), which are not all whole numbers ≥ 0; the file is corrupt.")
            }
            guard shape.count <= 16 else {
                throw SafeTensorsError("\(file) has a bad header: tensor '\(name)' has \(shape.count) dimensions, more than 16; the file is corrupt.")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard end >= begin else {
                throw SafeTensorsError("\(file) has a bad header: tensor '\(name)' has offsets [\(begin), \(end)] that end before they begin; the file is corrupt.")
            }
            guard end <= dataCount else {
                throw SafeTensorsError("\(file) is truncated: tensor '\(name)' needs bytes \(begin)..<\(end) of the data section, which has only \(dataCount) bytes; re-save the checkpoint.")
            }
            // The element count, overflow-checked: a shape like [2^40, 2^40] must not wrap around.
            var elements = 1, overflow = false
            for d in shape where !overflow {
                (elements, overflow) = elements.multipliedReportingOverflow(by: d)
                overflow = overflow || elements > dataCount / 4
            }
            guard !overflow, 4 * elements == end - begin else {
                throw SafeTensorsError("\(file) has a bad header: tensor '\(name)' of shape \(shape) does not fit its \(end - begin) bytes at offsets [\(begin), \(end)]; the file is corrupt.")
            }
            entries.append((name, begin, end, shape))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }   // file order
        for (a, b) in zip(entries, entries.dropFirst()) where b.begin < a.end {
            throw SafeTensorsError("\(file) has a bad header: tensors '\(a.name)' and '\(b.name)' share bytes (offsets [\(a.begin), \(a.end)] and [\(b.begin), \(b.end)]); the file is corrupt.")
        }
        // The format's rule: the tensors tile the data section, no hole and nothing after the
        // last (a header length off by a byte, or bytes appended, would shift or hide data).
        var covered = 0
        for e in entries {
            guard e.begin == covered else {
                throw SafeTensorsError("\(file) has a bad header: bytes \(covered)..<\(e.begin) of the data section belong to no tensor; the file is corrupt.")
            }
            covered = e.end
        }
        guard covered == dataCount else {
            throw SafeTensorsError("\(file) has \(dataCount - covered) bytes after its last tensor; the file is corrupt or its header length is wrong.")
        }
        let tensors = entries.map { e -> (name: String, tensor: Tensor) in
            var values = [Float](repeating: 0, count: e.shape.product)
            _ = values.withUnsafeMutableBytes { dst in
                bytes.copyBytes(to: dst, from: start + dataStart + e.begin ..< start + dataStart + e.end)
            }
            #if _endian(big)
            values = values.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
            #endif
            return (e.name, Tensor(values, shape: e.shape))
        }
        return (tensors, metadata)
    }

    /// The largest header accepted (the reference implementation's limit, 100 MB).
    public static let maxHeaderLength: UInt64 = 100_000_000

    /// A JSON number that is a whole number in 0 ... 2^53 as an Int, else nil.
    static func wholeNumber(_ value: Any) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d >= 0, d <= 9_007_199_254_740_992, d.rounded(.towardZero) == d else { return nil }
        return Int(d)
    }

    /// The bytes of a safetensors file holding `tensors` in the given order.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) -> Data {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, t) in tensors {
            let size = 4 * t.count
            fields.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)   // align the data to 8 bytes
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for (_, t) in tensors {
            #if _endian(big)
            let values = t.data.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
            #else
            let values = t.data
            #endif
            values.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Writes a file atomically: to a temporary file in the same folder, then renamed over
    /// `url`, so a crash never leaves a half-written checkpoint behind.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        let data = encode(tensors, metadata: metadata)
        var isFolder: ObjCBool = false
        let folder = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw SafeTensorsError("cannot write \(url.path): the folder \(folder.path) does not exist; create it or choose another path.")
        }
        do {
            try TemporaryFiles.writeAtomically(data, to: url)     // .NAME.tmp-PID-RANDOM, removed on SIGINT
        } catch .open(let reason) {
            throw SafeTensorsError("cannot write into \(folder.path) (\(reason)); check that the folder is writable.")
        } catch .short(let written) {
            throw SafeTensorsError("writing \(url.path) stopped after \(written) of \(data.count) bytes; check the free disk space.")
        } catch .rename(let reason) {
            throw SafeTensorsError("cannot write \(url.path) (\(reason)); check that the folder is writable and the name is not a folder.")
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// A checkpoint that cannot be read or does not fit the model; the message is one sentence
/// naming the file or tensor and what to do.
public struct SafeTensorsError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

extension Module {
    /// The parameters under their PyTorch names: `model.state_dict()`.
    public func stateDict() -> [(name: String, tensor: Tensor)] { namedParameters() }

    /// Saves the parameters as a safetensors file (atomically), like
    /// `safetensors.torch.save_file(model.state_dict(), path)`.
    public func saveStateDict(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(stateDict(), metadata: metadata, to: url)
    }

    /// Loads parameters from a safetensors file, like `model.load_state_dict(state, strict=True)`.
    /// With `strict`, every model parameter must be in the file and the file may hold no other
    /// tensor; shapes must always match. Values are copied into the existing parameter tensors
    /// (optimizers keep pointing at them). Nothing is changed if an error is thrown.
    public func loadStateDict(_ url: URL, strict: Bool = true) throws {
        let file = try SafeTensors.read(url)
        try loadStateDict(file.tensors, strict: strict, source: url.lastPathComponent)
    }

    /// Loads parameters from named tensors (see `loadStateDict(_ url:strict:)`).
    public func loadStateDict(_ tensors: [(name: String, tensor: Tensor)], strict: Bool = true, source: String = "checkpoint") throws {
        var byName: [String: Tensor] = [:]
        for (name, t) in tensors { byName[name] = t }
        let own = namedParameters()
        let ownNames = Set(own.map(\.name))
        if strict {
            if let missing = own.first(where: { byName[$0.name] == nil }) {
                let count = own.filter { byName[$0.name] == nil }.count
                throw SafeTensorsError("\(source) lacks tensor '\(missing.name)' of shape \(missing.tensor.shape)\(count > 1 ? " (and \(count - 1) more)" : ""); it was saved from a different model configuration.")
            }
            if let extra = tensors.first(where: { !ownNames.contains($0.name) }) {
                let count = tensors.filter { !ownNames.contains($0.name) }.count
                throw SafeTensorsError("\(source) has unexpected tensor '\(extra.name)'\(count > 1 ? " (and \(count - 1) more)" : "") that the model does not have; it was saved from a different model configuration.")
            }
        }
        for (name, p) in own {
            if let t = byName[name], t.shape != p.shape {
                throw SafeTensorsError("\(source): tensor '\(name)' has shape \(t.shape) in the file but \(p.shape) in the model; it was saved from a different model configuration.")
            }
        }
        for (name, p) in own { if let t = byName[name] { p.data = t.data } }
    }
}
