import ArgumentParser
import Diffusion
import Foundation

/// The command-line flag of each setting the Diffusion library names in its errors
/// (`DiffusionError`'s `option:` keys: recipe fields and actions).
public let settingFlags: [String: String] = [
    "batchSize": "--batch-size", "learningRate": "--lr", "learningRateFloor": "--lr-floor",
    "warmupSteps": "--warmup", "emaDecay": "--ema-decay", "timesteps": "--timesteps", "schedule": "--schedule",
    "loss": "--loss", "dim": "--dim", "dimMults": "--dim", "block": "--block", "model": "--model",
    "labelDropout": "--label-dropout", "width": "--width", "epochs": "--epochs", "resume": "--resume",
    "sampleOnly": "--sample-only", "output": "--output", "limit": "--limit",
    "trainClassifier": "--train-classifier", "recipe": "--recipe",
]

extension ChapterError {
    /// Any error as one sentence for the reader: a `ChapterError` as it is, a `DiffusionError`
    /// with its settings written as this program's flags, anything else as it describes itself.
    public init(_ error: Error) {
        switch error {
        case let error as ChapterError: self = error
        case let error as DiffusionError: self.init(error.rendered(options: settingFlags))
        default: self.init("\(error)")
        }
    }
}

/// Runs `body`, turning any error it throws into one `ChapterError` sentence (see above); an
/// exit (`ExitCode`, e.g. after Ctrl-C in training) passes through.
public func reported<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let exit as ExitCode { throw exit } catch { throw ChapterError(error) }
}

/// The case of `E` named `value` (nil when the option was not given), or one sentence listing
/// the choices: "unknown --loss 'l3'; choose mse, l1 or huber."
public func choice<E: RawRepresentable & CaseIterable>(_ value: String?, _ option: String, _: E.Type = E.self,
                                                       among cases: [E]? = nil) throws -> E? where E.RawValue == String {
    guard let value else { return nil }
    let allowed = cases ?? Array(E.allCases)
    guard let found = E(rawValue: value.lowercased()), allowed.contains(where: { $0.rawValue == found.rawValue }) else {
        let names = allowed.map(\.rawValue)
        let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
        throw ChapterError("unknown \(option) '\(value)'; choose \(list).")
    }
    return found
}
