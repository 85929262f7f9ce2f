import Foundation
import TinyTensor

/// An error a user can cause while reading or writing pictures: a missing or corrupt file,
/// an unwritable folder, frames of different sizes. `description` is one sentence that
/// says what went wrong and what to do about it.
public struct FigureError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
