import Foundation

/// A mistake a reader can make with the library (an unknown schedule or dataset name, a
/// parameter out of range, an unreadable image): one sentence saying what went wrong and
/// what to try instead. Chapters print it and exit with code 1.
public struct DiffusionError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
