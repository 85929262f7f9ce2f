import Foundation

/// An error a reader can cause: one sentence saying what went wrong and what to do.
public struct ChapterError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
