import Foundation

/// Wall-clock timing shared by the benchmark sections.
///
/// Benchmarks on a shared machine are noisy, so every measurement is: a few warm-up calls
/// (page faults, caches, thread start-up), then several samples, each long enough to
/// dwarf the clock's resolution (the body is repeated inside a sample when it is quick).
/// Report the median (typical speed) and the best (speed without interference).
enum Timing {
    /// Seconds on a monotonic clock.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// Seconds per call of `body`: the best and the median over `samples` samples.
    struct Result {
        var best: Double
        var median: Double
    }

    /// Times `body`. Each sample repeats it until at least `minSampleSeconds` have passed
    /// (the repeat count is fixed by the warm-up, so all samples do the same work).
    static func measure(warmup: Int = 2, samples: Int = 7, minSampleSeconds: Double = 0.02,
                        _ body: () -> Void) -> Result {
        var oneCall = Double.infinity
        for _ in 0..<max(1, warmup) {
            let t0 = now()
            body()
            oneCall = min(oneCall, now() - t0)
        }
        let repeats = max(1, Int((minSampleSeconds / max(oneCall, 1e-9)).rounded(.up)))
        var times: [Double] = []
        for _ in 0..<max(1, samples) {
            let t0 = now()
            for _ in 0..<repeats { body() }
            times.append((now() - t0) / Double(repeats))
        }
        times.sort()
        return Result(best: times[0], median: times[times.count / 2])
    }

    /// Seconds of each of `count` calls of `body`, after `warmup` untimed calls: for bodies long
    /// enough to time one at a time (a U-Net training step).
    static func eachCall(warmup: Int = 1, count: Int, _ body: () -> Void) -> [Double] {
        for _ in 0..<warmup { body() }
        return (0..<count).map { _ in
            let t0 = now()
            body()
            return now() - t0
        }
    }

    /// The machine's load averages (1, 5, 15 minutes) from /proc/loadavg, when there is one.
    static func loadAverage() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
