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
