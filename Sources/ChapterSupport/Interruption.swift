import Dispatch
import AtomicFiles
import Foundation
import TinyTensor

/// SIGINT (Ctrl-C) and SIGTERM.
///
/// By default (every chapter, through `ChapterOptions.start`): remove the temporary files of
/// unfinished atomic writes, then end the process as the signal would have (exit 130 or 143).
///
/// A long loop that can stop cleanly (Chapter 6's training) calls `stopPolitely()` first: then
/// the first signal only sets `requested`; the loop finishes its step, saves a checkpoint and
/// exits with `exitCode`. A second signal ends the process at once, as above. Files are always
/// written to a temporary name and renamed, so no finished file is ever damaged.
public enum Interruption {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var polite = false
    nonisolated(unsafe) private static var politeMessage = ""
    nonisolated(unsafe) private static var received: Int32 = 0
    private static let lock = NSLock()

    /// Installs the handlers once (later calls do nothing).
    public static func install() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)                        // delivered to the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                lock.lock()
                let deferToLoop = polite && received == 0
                if deferToLoop { received = sig }
                let message = politeMessage
                lock.unlock()
                if deferToLoop {
                    FileHandle.standardError.write(Data("\n\(sig == SIGINT ? "Ctrl-C" : "SIGTERM"): \(message)\n".utf8))
                    return
                }
                TemporaryFiles.removeAll(hold: true)     // writers wait here until the process ends
                // End as the signal would have. libdispatch blocks the signal in every thread
                // (it reads it from a signalfd), so unblock it here and raise it on this thread.
                signal(sig, SIG_DFL)
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, sig)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                raise(sig)
                _exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// From now on the first signal is a request that the caller polls with `requested`.
    public static func stopPolitely(message: String = "stopping after this step (press Ctrl-C again to quit at once)") {
        install()
        lock.lock(); defer { lock.unlock() }
        polite = true
        politeMessage = message
    }

    /// Back to the default once the loop that could stop cleanly is over: the next signal
    /// removes the temporary files and ends the process.
    public static func stopAtOnce() {
        lock.lock(); defer { lock.unlock() }
        polite = false
    }

    /// The signal received while stopping politely, if any.
    public static var requested: Int32? {
        lock.lock(); defer { lock.unlock() }
        return received == 0 ? nil : received
    }

    /// The exit code for the received signal: 130 for SIGINT, 143 for SIGTERM.
    public static var exitCode: Int32 { 128 + (requested ?? 0) }
}
