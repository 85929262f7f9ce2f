import Foundation
import Dispatch

/// How many threads the kernels use, and a parallel for-loop over ranges.
///
/// Work is cut into contiguous chunks whose boundaries depend only on the problem size and
/// the thread count, and every chunk writes its own outputs: results never depend on how
/// the chunks are scheduled.
public enum Parallel {
    nonisolated(unsafe) private static var _threads = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Threads used by the kernels (default: all cores). Set from `--threads`.
    public static var threadCount: Int {
        get { _threads }
        set { _threads = max(1, newValue) }
    }

    /// Calls `body` on disjoint sub-ranges covering 0..<n, in parallel when there are at
    /// least `grain` iterations per thread.
    public static func forRanges(_ n: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard n > 0 else { return }
        let chunks = min(threadCount, max(1, n / max(1, grain)))
        if chunks <= 1 { body(0..<n); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}
