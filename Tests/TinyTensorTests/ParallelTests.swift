import Dispatch
import Foundation
import Testing
@testable import TinyTensor

/// `Parallel.forRanges` and the worker pool behind it: every index once, whoever runs it
/// (a pool that loses a chunk never returns: the time limit turns that into a failure).
@Suite(.serialized, .timeLimit(.minutes(1))) struct ParallelTests {
    /// Runs `forRanges(n)` and counts how often each index was visited (no atomics needed:
    /// the chunks are disjoint, so each counter is written by one thread).
    func visits(_ n: Int, grain: Int = 1) -> [Int] {
        var counts = [Int](repeating: 0, count: n)
        counts.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            Parallel.forRanges(n, grain: grain) { range in
                for i in range { base[i] += 1 }
            }
        }
        return counts
    }

    @Test func everyIndexOnceForEveryThreadCountAndSize() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for threads in [1, 2, 3, 5] {
            Parallel.threadCount = threads
            for n in [1, 2, 3, 7, 64, 1000] {
                #expect(visits(n) == [Int](repeating: 1, count: n), "threads \(threads), n \(n)")
                #expect(visits(n, grain: 10) == [Int](repeating: 1, count: n), "threads \(threads), n \(n), grain 10")
            }
        }
    }

    /// Chunk boundaries depend on n and the thread count only: the same ranges every time,
    /// however many loops ran before (the pool's workers may be awake or asleep).
    @Test func chunksAreTheSameEveryTime() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        func ranges() -> [Range<Int>] {
            let lock = NSLock()
            var seen: [Range<Int>] = []
            Parallel.forRanges(100) { range in lock.lock(); seen.append(range); lock.unlock() }
            return seen.sorted { $0.lowerBound < $1.lowerBound }
        }
        let first = ranges()
        #expect(first == [0..<33, 33..<66, 66..<100])
        for pause in [0, 100, 2_000] {                 // microseconds between loops: awake, then asleep
            usleep(UInt32(pause))
            #expect(ranges() == first)
        }
    }

    /// A loop inside a chunk, and loops from several threads at once, cannot wait for the
    /// busy pool: they run on Dispatch's threads instead, and still visit every index once.
    @Test func nestedAndConcurrentLoops() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 2
        var inner = [[Int]](repeating: [], count: 4)
        inner.withUnsafeMutableBufferPointer { rows in
            let base = rows.baseAddress!
            Parallel.forRanges(4) { range in
                for r in range { base[r] = visits(50) }
            }
        }
        #expect(inner == [[Int]](repeating: [Int](repeating: 1, count: 50), count: 4))

        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            var ok = true
            for _ in 0..<50 { ok = ok && visits(37 + t) == [Int](repeating: 1, count: 37 + t) }
            results[t] = ok
        }
        #expect(results.allSatisfy { $0 })
    }
}
