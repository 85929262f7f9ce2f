import Foundation
import Dispatch

/// How many threads the kernels use, and a parallel for-loop over ranges.
///
/// Work is cut into contiguous chunks whose boundaries depend only on the problem size and
/// the thread count, and every chunk writes its own outputs: results never depend on how
/// the chunks are scheduled, or on which thread runs which chunk.
public enum Parallel {
    /// The machine's cores: the default thread count, and the most threads the pool starts.
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    nonisolated(unsafe) private static var _threads = cores

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
        func chunk(_ c: Int) {
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
        // The pool's threads, if it is free; otherwise (a call from inside a chunk, or from a
        // second thread at the same time) Dispatch's, which are slower to start but never busy.
        if !WorkerPool.shared.run(chunks: chunks, chunk) {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: chunk)
        }
    }
}

/// Worker threads that stay awake for a moment between parallel loops.
///
/// A training step runs hundreds of parallel loops (most ops' kernels are one), many of them
/// a few tens of microseconds long. `DispatchQueue.concurrentPerform` parks its worker
/// threads as soon as a loop ends, and waking a parked thread took 30–60 µs on the course's
/// 2-core VM, as long as the loop itself: the caller had often done every chunk alone by the
/// time the second thread arrived (`swift run -c release Benchmarks threads` measures both). These workers instead keep looking for the next loop for `spin` (0.5 ms)
/// after their last one, yielding the core while they look, and only then sleep; a loop that
/// follows another one closely starts on every thread within a few microseconds.
/// (OpenBLAS's threads, and OpenMP's that PyTorch uses, also spin a while before they sleep.)
///
/// Every piece of shared state is read and written under one lock (`NSCondition`), which
/// also orders the chunks' writes before the caller's return. Chunks are claimed one at a
/// time by whichever thread is free (the caller too), so a late or sleeping worker costs
/// time, never a wrong or different result.
final class WorkerPool: @unchecked Sendable {
    /// One pool per process, its workers started at the first parallel loop.
    static let shared = WorkerPool()

    /// How long a worker looks for the next loop before it sleeps.
    static let spin: UInt64 = 500_000           // nanoseconds

    private let state = NSCondition()
    /// Serialises callers: the pool runs one loop at a time.
    private let caller = NSLock()
    private var workers = 0
    /// Counts the loops posted, so that a worker knows when there is a new one.
    private var generation = 0
    private var job: ((Int) -> Void)?
    private var chunks = 0, nextChunk = 0, unfinished = 0
    private var sleeping = 0

    /// Runs `chunk(0..<chunks)` on the pool's threads and the caller's; false (and nothing
    /// run) when the pool is already running a loop.
    func run(chunks: Int, _ chunk: (Int) -> Void) -> Bool {
        guard caller.try() else { return false }
        defer { caller.unlock() }
        withoutActuallyEscaping(chunk) { chunk in
            state.lock()
            // Never more threads than cores, whatever `--threads` asks: a spinning worker on a
            // core another thread needs would slow it. Extra chunks are claimed in turn, and the
            // chunks, so the results, still follow `threadCount`.
            while workers < min(chunks, Parallel.cores) - 1 { startWorker() }
            job = chunk
            self.chunks = chunks
            nextChunk = 0
            unfinished = chunks
            generation &+= 1
            if sleeping > 0 { state.broadcast() }
            while claimAndRun() {}
            // The caller has nothing left to claim: wait for the chunks still running.
            while unfinished > 0 { state.unlock(); sched_yield(); state.lock() }
            job = nil
            state.unlock()
        }
        return true
    }

    /// Runs the next unclaimed chunk, if any (called and returns with `state` locked).
    private func claimAndRun() -> Bool {
        guard nextChunk < chunks, let job else { return false }
        let c = nextChunk
        nextChunk += 1
        state.unlock()
        job(c)
        state.lock()
        unfinished -= 1
        return true
    }

    /// Called with `state` locked, before the loop that needs the worker is posted.
    private func startWorker() {
        workers += 1
        let posted = generation
        let thread = Thread { [unowned self] in self.work(after: posted) }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// A worker's life: wait for a loop newer than `start`, take chunks until none is left, repeat.
    private func work(after start: Int) {
        var seen = start
        state.lock()
        while true {
            var since = DispatchTime.now().uptimeNanoseconds
            while generation == seen {
                if DispatchTime.now().uptimeNanoseconds &- since < Self.spin {
                    state.unlock(); sched_yield(); state.lock()
                } else {
                    sleeping += 1
                    state.wait()
                    sleeping -= 1
                    since = DispatchTime.now().uptimeNanoseconds
                }
            }
            seen = generation
            while claimAndRun() {}
        }
    }
}
