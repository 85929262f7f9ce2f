import Foundation

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
