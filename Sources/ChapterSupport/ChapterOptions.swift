import ArgumentParser
import Foundation
import TinyTensor

/// The options every chapter shares: `--seed`, `--output`, `--threads`, `--quick`.
///
/// Include them in a chapter with `@OptionGroup var common: ChapterOptions`.
public struct ChapterOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Seed of the random generator; the same seed gives byte-identical outputs.")
    public var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Folder for the figures and files (default: output/<chapter target name>).")
    public var output: String?

    @Option(parsing: .unconditional, help: "Threads for the tensor kernels (default: all cores; results do not depend on it).")
    public var threads: Int?

    @Flag(help: "Shrink the work for a quick look and for the tests.")
    public var quick = false

    public init() {}

    public mutating func validate() throws {
        if let threads, !(1...1024).contains(threads) {
            throw ValidationError("--threads must be between 1 and 1024, got \(threads).")
        }
        if let output, output.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--output is empty; pass a folder path (or leave it out for output/<chapter>).")
        }
    }

    /// What every chapter needs before it works, in one call:
    /// - stdout line-buffered, so progress appears at once even through `| tee`;
    /// - `--threads` applied;
    /// - SIGINT/SIGTERM remove the temporary files of unfinished writes before the process ends;
    /// - the output folder of the chapter `target` checked, but created only at the first write
    ///   (a run that fails before writing leaves nothing behind), where stale temporary files
    ///   of killed runs are swept and `run.json` records which chapter and options wrote it.
    public func start(_ target: String) throws -> OutputFolder {
        setvbuf(stdout, nil, _IOLBF, 0)
        if let threads { Parallel.threadCount = threads }
        Interruption.install()
        let folder = try OutputFolder(output ?? "output/\(target)")
        folder.record = RunRecord(chapter: target, seed: seed, quick: quick)
        return folder
    }

    /// `explicit` if the option was given, else the `--quick` or the normal default: an option
    /// on the command line always beats `--quick`.
    public func value<T>(_ explicit: T?, normal: T, quick quickValue: T) -> T {
        explicit ?? (quick ? quickValue : normal)
    }
}

/// Bounds for size options: one sentence with the allowed range and what to do.
public enum Bounds {
    /// Throws unless `value` of `option` lies in `range`; `why` (optional) explains the limit.
    public static func check<T: Comparable>(_ option: String, _ value: T, in range: ClosedRange<T>, _ why: String = "") throws {
        guard range.contains(value) else {
            throw ChapterError("\(option) must be between \(range.lowerBound) and \(range.upperBound), got \(value)\(why.isEmpty ? "" : " (\(why))").")
        }
    }

    /// Memory this machine may give one run: half the physical memory, at most 8 GB.
    public static var memoryBudget: Double { min(Double(ProcessInfo.processInfo.physicalMemory) / 2, 8e9) }

    /// Throws when `bytes`, the estimated memory of `what`, exceeds the budget; `advice` says
    /// which option to lower.
    public static func memory(_ bytes: Double, for what: String, _ advice: String) throws {
        guard bytes <= memoryBudget else {
            throw ChapterError(String(format: "%@ would need about %.1f GB of memory, more than the %.1f GB this run may use; %@.",
                                      what, bytes / 1e9, memoryBudget / 1e9, advice))
        }
    }
}

/// The first lines of `run.json`: which chapter and options wrote an output folder. No times,
/// paths or thread counts, so the same command writes the same bytes.
public struct RunRecord: Encodable {
    public var chapter: String
    /// The command line after the program name, without `--output` and `--threads` (they do
    /// not change the files).
    public var arguments: [String]
    public var seed: UInt64
    public var quick: Bool

    public init(chapter: String, seed: UInt64, quick: Bool, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        self.chapter = chapter
        self.seed = seed
        self.quick = quick
        var kept: [String] = [], skip = false
        for a in arguments {
            if skip { skip = false; continue }
            if a == "--output" || a == "--threads" { skip = true; continue }
            if a.hasPrefix("--output=") || a.hasPrefix("--threads=") { continue }
            kept.append(a)
        }
        self.arguments = kept
    }
}

/// An error a reader can cause: one sentence saying what went wrong and what to do.
public struct ChapterError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

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
    public func writeJSON<T: Encodable>(_ value: T, to name: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(enc.encode(value), to: name)
    }

    /// A path relative to the current folder when possible, for messages.
    public func display(_ name: String) -> String {
        let full = url.appendingPathComponent(name).path, cwd = FileManager.default.currentDirectoryPath + "/"
        return full.hasPrefix(cwd) ? String(full.dropFirst(cwd.count)) : full
    }
}

/// Wall-clock timing for the printed summaries.
public struct Stopwatch {
    private let start = DispatchTime.now().uptimeNanoseconds
    public init() {}
    /// Seconds since creation.
    public var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// A comma-separated list option ("0,1,2", "10,20,50") parsed into values, or one sentence
/// naming the option, what it expects and an example:
///
///     try parseList("0,1,x", option: "--ablation-seeds", expects: "whole numbers", example: "0,1,2") { UInt64($0) }
///     // Error: --ablation-seeds expects 1 to 12 comma-separated whole numbers, e.g. 0,1,2; got '0,1,x'.
public func parseList<T>(_ text: String, option: String, expects: String, example: String, maxCount: Int = 12,
                         _ convert: (String) -> T?) throws -> [T] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let values = parts.compactMap { convert($0.trimmingCharacters(in: .whitespaces)) }
    guard !text.isEmpty, values.count == parts.count, values.count <= maxCount else {
        throw ChapterError("\(option) expects 1 to \(maxCount) comma-separated \(expects), e.g. \(example); got '\(text)'.")
    }
    return values
}
