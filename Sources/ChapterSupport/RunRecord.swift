import Foundation

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
