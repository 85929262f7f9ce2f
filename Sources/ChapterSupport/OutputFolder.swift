import AtomicFiles
import Figures
import Foundation
import TinyTensor

/// The folder a chapter writes into. Files are written to a temporary name and renamed,
/// so an interrupted run never leaves a half-written figure or checkpoint.
///
/// The folder is checked when created but made only at the first `file(_:)` or `write`:
/// a run that stops before writing leaves no folder and earlier outputs untouched. At that
/// first write, temporary files left by killed runs are swept and, when `record` is set,
/// `run.json` says which chapter and options wrote the folder (`run-<chapter>.json` for a
/// second chapter writing into it).
public struct OutputFolder {
    public let url: URL
    private let state = State()

    private final class State {
        let lock = NSLock()
        var prepared = false
        var record: RunRecord?
    }

    /// What `run.json` records (set by `ChapterOptions.start`); nil writes no run.json.
    public var record: RunRecord? {
        get { state.lock.lock(); defer { state.lock.unlock() }; return state.record }
        nonmutating set { state.lock.lock(); state.record = newValue; state.lock.unlock() }
    }

    /// Checks that `path` is, or can become, a writable folder; creates nothing yet.
    public init(_ path: String) throws {
        guard !path.isEmpty else { throw ChapterError("--output is empty; pass a folder path.") }
        url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        // Too long for the file system: refuse before creating any of its folders.
        let longest = url.pathComponents.map(\.utf8.count).max() ?? 0
        guard url.path.utf8.count < Int(PATH_MAX) - 300, longest <= Int(NAME_MAX) - 40 else {
            throw ChapterError("--output is too long for the file system (\(url.path.utf8.count) bytes, a name of up to \(longest)); "
                               + "choose a shorter folder path.")
        }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw ChapterError("--output \(path) is a file, not a folder; pass a folder path.")
            }
            guard fm.isWritableFile(atPath: url.path) else {
                throw ChapterError("the output folder \(path) is not writable; choose another with --output.")
            }
            return
        }
        // The nearest existing parent must be a writable folder.
        var parent = url.deletingLastPathComponent()
        while !fm.fileExists(atPath: parent.path, isDirectory: &isDir), parent.path != "/" {
            parent = parent.deletingLastPathComponent()
        }
        guard isDir.boolValue else {
            throw ChapterError("cannot create the output folder \(path): \(parent.path) is a file; choose another folder with --output.")
        }
        guard fm.isWritableFile(atPath: parent.path) else {
            throw ChapterError("cannot create the output folder \(path): \(parent.path) is not writable; choose another folder with --output.")
        }
    }

    /// Creates the folder (once), sweeps stale temporary files and writes run.json.
    public func prepare() throws {
        state.lock.lock()
        defer { state.lock.unlock() }
        guard !state.prepared else { return }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ChapterError("cannot create the output folder \(url.path) (\(String(cString: strerror(errno)))); choose a writable folder with --output.")
        }
        state.prepared = true
        TemporaryFiles.sweepStale(in: url)
        if let record = state.record {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeBytes(enc.encode(record) + Data("\n".utf8), to: Self.recordName(for: record.chapter, in: url))
        }
    }

    /// `run.json`, unless that file records another chapter: then `run-<chapter>.json`, so a
    /// folder two chapters share (Chapter 6 trains the model Chapter 8 guides, in Chapter 8's
    /// folder) keeps both records.
    static func recordName(for chapter: String, in folder: URL) -> String {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("run.json")),
              let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let owner = top["chapter"] as? String, owner != chapter else { return "run.json" }
        return "run-\(chapter).json"
    }

    /// The URL of a file in the folder without creating anything (to look for a file to read).
    public func path(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The URL of a file in the folder; creates the folder first (see `prepare()`).
    public func file(_ name: String) -> URL {
        try? prepare()
        return url.appendingPathComponent(name)
    }

    /// Writes `data` to `name` atomically (temporary file `.NAME.tmp-PID-RANDOM` + rename).
    public func write(_ data: Data, to name: String) throws {
        try prepare()
        try writeBytes(data, to: name)
    }

    private func writeBytes(_ data: Data, to name: String) throws {
        let target = url.appendingPathComponent(name)
        do {
            try TemporaryFiles.writeAtomically(data, to: target)
        } catch .short(let written) {
            throw ChapterError("writing \(target.path) stopped after \(written) of \(data.count) bytes; check the free disk space.")
        } catch .open(let reason), .rename(let reason) {
            throw ChapterError("cannot write \(target.path) (\(reason)); check the --output folder.")
        }
    }

    /// Writes text atomically.
    public func write(_ text: String, to name: String) throws { try write(Data(text.utf8), to: name) }

    /// Writes an Encodable value as pretty, key-sorted JSON (stable bytes for the same values).
    /// A value that is not finite (NaN, ±∞) is refused with one sentence naming it; nothing is written.
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try enc.encode(value) } catch EncodingError.invalidValue(let bad, let context) {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw ChapterError("\(name) would hold \(bad) at \(path.isEmpty ? "its top" : path), which is not a finite number; "
                               + "the run diverged or its input was damaged, so \(name) is not written.")
        }
        try write(data, to: name)
    }

    /// A path relative to the current folder when possible, for messages.
    public func display(_ name: String) -> String {
        let full = url.appendingPathComponent(name).path, cwd = FileManager.default.currentDirectoryPath + "/"
        return full.hasPrefix(cwd) ? String(full.dropFirst(cwd.count)) : full
    }
}

extension OutputFolder {
    /// Writes a figure (a `Canvas`, `Figure` or `GrayImage`) as `name` and says so:
    /// "wrote output/…/name" and `note`.
    public func writePNG(_ picture: some PNGWritable, _ name: String, note: String = "") throws {
        try picture.writePNG(to: file(name))
        print("wrote \(display(name))\(note)")
    }
}
