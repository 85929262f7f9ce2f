import Foundation

/// A progress report for long loops (training, sampling).
///
/// On a terminal it is one line redrawn in place (`\r`), at most a few times a second; when the
/// output goes to a file or a pipe (`| tee log.txt`, CI) it prints a plain line every
/// `plainEvery` seconds instead, so logs stay readable. The caller passes the fields to show;
/// the line adds the elapsed time, seconds per item and the estimated time left.
///
///     let progress = ProgressLine(total: 2814, label: "train")
///     for step in 1...2814 { ...; progress.update(step, "epoch 1/6  loss 0.0412") }
///     progress.finish()
public final class ProgressLine {
    public let total: Int
    public let label: String
    let interactive: Bool
    let plainEvery: Double
    let clock = Stopwatch()
    var lastDraw = -1.0
    var startItem = 0
    var lastLength = 0

    /// - Parameters:
    ///   - total: items of the whole loop.
    ///   - startingAt: items already done before this process started (a resumed run), so the
    ///     rate and ETA count only this process's work.
    ///   - plainEvery: seconds between lines when the output is not a terminal.
    public init(total: Int, label: String, startingAt: Int = 0, plainEvery: Double = 30) {
        self.total = total
        self.label = label
        self.startItem = startingAt
        self.plainEvery = plainEvery
        interactive = isatty(STDOUT_FILENO) == 1
    }

    /// Reports that `done` items are finished; `fields` is shown after the counter.
    public func update(_ done: Int, _ fields: String = "") {
        let now = clock.seconds
        let last = done >= total
        guard last || now - lastDraw >= (interactive ? 0.25 : plainEvery) || lastDraw < 0 else { return }
        lastDraw = now
        let finishedHere = max(0, done - startItem)
        let perItem = finishedHere > 0 ? now / Double(finishedHere) : 0
        let eta = perItem * Double(max(0, total - done))
        let width = String(total).count
        let counter = String(repeating: " ", count: max(0, width - String(done).count)) + "\(done)/\(total)"
        var line = "\(label) \(counter)"
        if !fields.isEmpty { line += "  \(fields)" }
        line += String(format: "  %@/it  elapsed %@  left %@", ProgressLine.duration(perItem, short: true),
                       ProgressLine.duration(now), ProgressLine.duration(eta))
        if interactive {
            let pad = String(repeating: " ", count: max(0, lastLength - line.count))
            print("\r\(line)\(pad)", terminator: "")
            lastLength = line.count
            fflush(stdout)
        } else {
            print(line)
        }
    }

    /// Ends the in-place line (a newline on a terminal).
    public func finish() {
        if interactive && lastLength > 0 { print(""); lastLength = 0 }
    }

    /// "0.84s", "3m05s", "1h02m".
    public static func duration(_ seconds: Double, short: Bool = false) -> String {
        if short || seconds < 60 { return String(format: seconds < 10 ? "%.2fs" : "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
