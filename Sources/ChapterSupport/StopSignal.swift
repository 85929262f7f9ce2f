import Dispatch
import Foundation

/// Ctrl-C (SIGINT) and SIGTERM as a polite request: a long loop checks `StopSignal.requested`
/// after each step, saves what it has, and exits with `StopSignal.exitCode` (130 or 143, the
/// shell's convention 128 + signal). A second signal ends the process at once; files are
/// always written to a temporary name and renamed, so even then no finished file is damaged.
public enum StopSignal {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var received: Int32 = 0
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Starts listening for SIGINT and SIGTERM (call once, before the long loop).
    public static func install(message: String = "stopping after this step (press Ctrl-C again to quit at once)") {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                lock.lock()
                let again = received != 0
                if !again { received = sig }
                lock.unlock()
                if again { exit(128 + sig) }
                FileHandle.standardError.write(Data("\n\(sig == SIGINT ? "Ctrl-C" : "SIGTERM"): \(message)\n".utf8))
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The signal received so far, if any.
    public static var requested: Int32? {
        lock.lock(); defer { lock.unlock() }
        return received == 0 ? nil : received
    }

    /// The exit code for the received signal: 130 for SIGINT, 143 for SIGTERM.
    public static var exitCode: Int32 { 128 + (requested ?? 0) }
}
