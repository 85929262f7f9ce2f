import AtomicFiles
import Foundation

/// Writes files the safe way: into a temporary file in the destination folder, then
/// `rename(2)` over the destination. A crash or a full disk halfway through leaves the old
/// file (if any) untouched, and readers never see a half-written picture.
enum AtomicFile {
    /// Creates the folder that will hold `url` (and its parents) if needed.
    static func prepareFolder(for url: URL) throws {
        let folder = url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
            if !isFolder.boolValue {
                throw FigureError("Cannot write \(url.path): \(folder.path) is a file, not a folder; choose another output path.")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FigureError("Cannot create the folder \(folder.path) for \(url.lastPathComponent); check that the path is writable.")
        }
    }

    /// A fresh temporary path next to `url` (same folder, so the rename stays on one disk).
    /// Named `.NAME.tmp-PID-RANDOM` and registered in `TemporaryFiles`, so an interrupted run
    /// removes it and a later run sweeps it if the process was killed.
    static func temporaryURL(for url: URL) -> URL { TemporaryFiles.url(for: url) }

    /// Moves the finished temporary file over the destination (atomic on POSIX).
    static func commit(_ temporary: URL, to url: URL) throws {
        // giflib creates its files with mode 0600; figures are for everyone to read.
        chmod(temporary.path, 0o644)
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            TemporaryFiles.discard(temporary)
            throw FigureError("Cannot write \(url.path) (\(reason)); check that the folder is writable.")
        }
        TemporaryFiles.finished(temporary)
    }

    /// Writes `bytes` to `url` atomically, creating the folder if needed.
    static func write(_ bytes: [UInt8], to url: URL) throws {
        try prepareFolder(for: url)
        let temporary = temporaryURL(for: url)
        guard let file = fopen(temporary.path, "wb") else {
            let reason = String(cString: strerror(errno))
            TemporaryFiles.finished(temporary)
            throw FigureError("Cannot write into \(url.deletingLastPathComponent().path) (\(reason)); check that the folder is writable.")
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        if written != bytes.count || closed != 0 {
            TemporaryFiles.discard(temporary)
            throw FigureError("Writing \(url.path) failed after \(written) of \(bytes.count) bytes; check the free disk space.")
        }
        try commit(temporary, to: url)
    }
}
