import Foundation
import Testing
import TinyTensor

/// The random streams must not depend on how many threads fill them.
@Suite(.serialized) struct RandomTests {
    func streams(threads: Int) -> ([Float], [Float], [Float]) {
        let saved = Parallel.threadCount
        Parallel.threadCount = threads
        defer { Parallel.threadCount = saved }
        var rng = RandomGenerator(seed: 42)
        let a = rng.normal(count: 100_003)
        let b = rng.uniform(count: 70_001, low: -2, high: 3)
        let c = rng.normal(count: 5, mean: 1, std: 0.1)
        return (a, b, c)
    }

    @Test func sameStreamsForOneAndTwoThreads() {
        let one = streams(threads: 1), two = streams(threads: 2)
        #expect(one.0 == two.0)
        #expect(one.1 == two.1)
        #expect(one.2 == two.2)
    }

    @Test func normalAndUniformMoments() {
        var rng = RandomGenerator(seed: 7)
        let z = rng.normal(count: 200_000).map(Double.init)
        let mean = z.reduce(0, +) / Double(z.count)
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(z.count)
        #expect(abs(mean) < 5 / 200_000.0.squareRoot())
        #expect(abs(variance - 1) < 5 * (2 / 200_000.0).squareRoot())
        let u = rng.uniform(count: 100_000, low: 2, high: 4)
        #expect(u.allSatisfy { $0 >= 2 && $0 < 4 })
        let uMean: Double = u.map(Double.init).reduce(0, +) / 100_000
        #expect(abs(uMean - 3) < 0.01)
    }

    @Test func callsContinueTheStream() {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let first = a.normal(count: 8), second = a.normal(count: 8)
        let both = b.normal(count: 16)
        #expect(first + second == both)
        #expect(first != second)
    }
}
