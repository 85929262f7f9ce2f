import Dispatch
import Foundation
import TinyTensor

/// `swift run -c release Benchmarks threads`: what starting a parallel loop costs.
///
/// Every kernel splits its work with `Parallel.forRanges`, which runs the chunks on a pool of
/// worker threads that keep looking for work for half a millisecond after a loop
/// (`WorkerPool`, Parallel.swift). This section times loops of `threadCount` chunks that do
/// nothing but wait a fixed time, with a fixed pause of serial work between them, through the
/// pool and through `DispatchQueue.concurrentPerform` (which the kernels used before), and
/// prints what each adds to the ideal time (pause + one chunk). The overhead is what a
/// kernel pays per call on this machine; it decides how small a loop can be and still gain
/// from a second thread. No reference library: both sides are ours.
enum ThreadsBenchmark {
    /// Busy-waits `microseconds` (a chunk of work, or the serial code between two loops).
    static func work(_ microseconds: Double) {
        let end = Timing.now() + microseconds * 1e-6
        while Timing.now() < end {}
    }

    static func run(_ options: BenchmarkOptions) {
        let threads = Parallel.threadCount
        print("== threads: the cost of one parallel loop of \(threads) chunks (median of 7 samples of 200 loops), \(threads) thread(s)")
        guard threads > 1 else { print("one thread: no loop is run in parallel (pass --threads 2)"); return }
        print("pause before each loop   work per chunk    pool overhead µs   Dispatch overhead µs")
        let cases: [(pause: Double, chunk: Double)] = [(0, 0), (50, 0), (50, 20), (50, 100), (2_000, 20), (2_000, 100)]
        for c in cases {
            let loops = 200
            func overhead(_ loop: () -> Void) -> Double {
                let t = Timing.measure(warmup: 1, samples: 7, minSampleSeconds: 0) {
                    for _ in 0..<loops { work(c.pause); loop() }
                }
                return (t.median / Double(loops) - (c.pause + c.chunk) * 1e-6) * 1e6
            }
            let pool = overhead { Parallel.forRanges(threads) { _ in work(c.chunk) } }
            let dispatch = overhead { DispatchQueue.concurrentPerform(iterations: threads) { _ in work(c.chunk) } }
            print(String(format: "%10.0f µs %18.0f µs %18.1f %22.1f", c.pause, c.chunk, pool, dispatch))
        }
        print("(the pool's workers sleep after 500 µs without a loop: the 2000 µs rows pay a wake-up either way)")
    }
}
