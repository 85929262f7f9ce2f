import ArgumentParser

/// The value of an on/off option, spelled the same in every chapter: `--flip no`,
/// `--rescale-betas yes`. It also takes `true`/`false` and `on`/`off`, so a learner who types
/// Swift's words is not refused; anything else is a usage error (exit code 64) naming the choices.
public enum YesNo: String, ExpressibleByArgument, CaseIterable, Sendable {
    case yes, no

    public init?(argument: String) {
        switch argument.lowercased() {
        case "yes", "true", "on": self = .yes
        case "no", "false", "off": self = .no
        default: return nil
        }
    }

    /// `true` for yes.
    public var isOn: Bool { self == .yes }
}
