import ArgumentParser
import Foundation
import TinyTensor

/// The options every chapter shares: `--seed`, `--output`, `--threads`, `--quick`.
///
/// Include them in a chapter with `@OptionGroup var common: ChapterOptions`.
public struct ChapterOptions: ParsableArguments {
    @Option(help: "Seed of the random generator; the same seed gives byte-identical outputs.")
    public var seed: UInt64 = 0

    @Option(help: "Folder for the figures and files (default: output/<chapter target name>).")
    public var output: String?

    @Option(help: "Threads for the tensor kernels (default: all cores; results do not depend on it).")
    public var threads: Int?

    @Flag(help: "Shrink the work for a quick look and for the tests.")
    public var quick = false

    public init() {}

    public mutating func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads).") }
    }

    /// Applies `--threads` and prepares the output folder of the chapter `target`.
    public func start(_ target: String) throws -> OutputFolder {
        if let threads { Parallel.threadCount = threads }
        return try OutputFolder(output ?? "output/\(target)")
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
public struct OutputFolder {
    public let url: URL

    /// Creates the folder if needed and checks that it is writable.
    public init(_ path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
            throw ChapterError("--output \(path) is a file, not a folder; pass a folder path.")
        }
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ChapterError("cannot create the output folder \(path); choose a writable folder with --output.")
        }
        guard fm.isWritableFile(atPath: url.path) else {
            throw ChapterError("the output folder \(path) is not writable; choose another with --output.")
        }
    }

    /// The URL of a file in the folder.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Writes `data` to `name` atomically (temporary file + rename).
    public func write(_ data: Data, to name: String) throws {
        do {
            try data.write(to: file(name), options: .atomic)
        } catch {
            throw ChapterError("cannot write \(file(name).path): \(error.localizedDescription); check the --output folder.")
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
        let full = file(name).path, cwd = FileManager.default.currentDirectoryPath + "/"
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
