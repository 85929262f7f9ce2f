import ArgumentParser
import Foundation

/// A chapter's command line. The same as ArgumentParser's `ParsableCommand` except for one
/// thing, set here for every chapter: a usage error (an unknown flag, a missing or malformed
/// value, a failed check) ends with one line and exit code 1, as the README promises, rather
/// than ArgumentParser's usage screen and code 64. `--help` and successful runs are unchanged.
public protocol ChapterCommand: ParsableCommand {}

extension ChapterCommand {
    public static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            let text = message(for: error)
            FileHandle.standardError.write(Data("Error: \(text)\(text.hasSuffix(".") ? "" : ".") See --help.\n".utf8))
            Foundation.exit(1)
        }
    }
}
