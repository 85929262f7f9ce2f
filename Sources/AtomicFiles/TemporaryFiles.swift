import Foundation

/// The temporary files of atomic writes (write to a temporary name, then rename), in one place
/// so that nothing is left behind:
///
/// - every temporary file is named `.NAME.tmp-PID-RANDOM` next to its destination NAME;
/// - while it exists it is registered here, and `removeAll()` (called on SIGINT/SIGTERM by
///   ChapterSupport) deletes the registered ones;
/// - `sweepStale(in:)` deletes those left in a folder by earlier runs that were killed
///   (SIGKILL, power loss): the PID in the name is no longer a running process.
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var live: Set<String> = []

    /// A fresh temporary path next to `url` (same folder, so the rename stays on one disk),
    /// registered until `finished(_:)`.
    public static func url(for url: URL) -> URL {
        let name = ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let temporary = url.deletingLastPathComponent().appendingPathComponent(name)
        lock.lock(); live.insert(temporary.path); lock.unlock()
        return temporary
    }

    /// The temporary file was renamed or removed: forget it.
    public static func finished(_ temporary: URL) {
        lock.lock(); live.remove(temporary.path); lock.unlock()
    }

    /// Removes the temporary file (if it exists) and forgets it.
    public static func discard(_ temporary: URL) {
        unlink(temporary.path)
        finished(temporary)
    }

    /// Deletes every registered temporary file (an interrupted run). With `hold`, the registry
    /// stays locked afterwards: a writer that would now fail on its vanished temporary file
    /// (and report a misleading error) blocks instead, until the signal ends the process.
    public static func removeAll(hold: Bool = false) {
        lock.lock()
        for path in live { unlink(path) }
        live.removeAll()
        if !hold { lock.unlock() }
    }

    /// The registered temporary paths (for tests).
    public static var registered: Set<String> { lock.lock(); defer { lock.unlock() }; return live }

    /// Is `name` a temporary file of ours, and the PID of the process that made it? Also knows
    /// the older `.NAME.PID.tmp` form of checkpoints.
    public static func owner(ofTemporaryName name: String) -> Int32? {
        guard name.hasPrefix(".") else { return nil }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if let last = parts.last, last.hasPrefix("tmp-") {                  // .NAME.tmp-PID-RANDOM
            let fields = last.dropFirst(4).split(separator: "-")
            guard (1...2).contains(fields.count), fields.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
            return Int32(fields[0])
        }
        if parts.count >= 4, parts.last == "tmp", let pid = Int32(parts[parts.count - 2]) { return pid }   // .NAME.PID.tmp
        return nil
    }

    /// Deletes the temporary files in `folder` whose process is gone; returns their names.
    @discardableResult
    public static func sweepStale(in folder: URL) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let pid = owner(ofTemporaryName: name), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }              // still running (maybe another user's)
            if unlink(folder.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Why an atomic write failed: the temporary file could not be opened (with the system's
    /// reason), fewer bytes than asked were written, or the final rename failed.
    public enum WriteFailure: Error {
        case open(String), short(written: Int), rename(String)
    }

    /// Writes `data` to a registered temporary file beside `target`, then renames it over
    /// `target` (mode 0644); on failure the temporary file is gone and `target` untouched.
    /// Callers turn the failure into their own sentence.
    public static func writeAtomically(_ data: Data, to target: URL) throws(WriteFailure) {
        let temporary = url(for: target)
        guard let handle = fopen(temporary.path, "wb") else {
            let reason = String(cString: strerror(errno))
            finished(temporary)
            throw .open(reason)
        }
        let written = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        let closed = fclose(handle)
        guard written == data.count, closed == 0 else {
            discard(temporary)
            throw .short(written: written)
        }
        chmod(temporary.path, 0o644)
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            discard(temporary)
            throw .rename(reason)
        }
        finished(temporary)
    }
}
