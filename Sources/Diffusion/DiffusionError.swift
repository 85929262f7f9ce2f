import Foundation

/// A mistake a reader can make with the library (a parameter out of range, a damaged file, a
/// recipe that does not match a checkpoint): one sentence saying what went wrong and what to
/// try instead, in the library's own terms.
///
/// Where the remedy is a setting, the message names it with `\(option: "batchSize", "the batch
/// size")`: the description reads "lower the batch size", and a command-line program renders the
/// same error with its own flag for the key (`rendered(options:)`: "lower --batch-size"). The
/// library never knows its callers' flags.
public struct DiffusionError: Error, CustomStringConvertible, LocalizedError {
    /// Text, or a setting named by its key (a recipe field or an action such as "resume").
    public enum Piece: Sendable, Equatable {
        case text(String)
        case option(key: String, words: String)
    }

    public let pieces: [Piece]

    public init(_ message: Message) { pieces = message.pieces }
    public init(_ text: String) { pieces = [.text(text)] }

    /// The message with every setting in words.
    public var description: String { rendered(options: [:]) }
    public var errorDescription: String? { description }

    /// The message with each setting whose key is in `options` written as its value (a flag).
    public func rendered(options: [String: String]) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): return text
            case .option(let key, let words): return options[key] ?? words
            }
        }.joined()
    }

    /// The keys of the settings the message names.
    public var optionKeys: [String] {
        pieces.compactMap { if case .option(let key, _) = $0 { return key } else { return nil } }
    }

    /// A message: a string literal with interpolations, `\(option: key, words)` naming a setting.
    public struct Message: ExpressibleByStringInterpolation, Sendable {
        var pieces: [Piece] = []

        public init(stringLiteral value: String) { pieces = [.text(value)] }

        /// Two messages one after the other.
        public static func + (a: Message, b: Message) -> Message {
            var joined = a
            joined.pieces += b.pieces
            return joined
        }
        public init(stringInterpolation: Interpolation) { pieces = stringInterpolation.pieces }

        public struct Interpolation: StringInterpolationProtocol {
            var pieces: [Piece] = []
            public init(literalCapacity: Int, interpolationCount: Int) {}
            public mutating func appendLiteral(_ literal: String) { pieces.append(.text(literal)) }
            public mutating func appendInterpolation<T>(_ value: T) { pieces.append(.text("\(value)")) }
            /// A setting: `key` for programs that map it to a flag, `words` for everyone else.
            public mutating func appendInterpolation(option key: String, _ words: String) {
                pieces.append(.option(key: key, words: words))
            }
        }
    }
}
