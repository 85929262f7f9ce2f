import Foundation

/// A seedable, counter-based random generator: Philox4x32-10 (Salmon et al., SC 2011).
///
/// Block `i` of the stream is `philox(key: seed, counter: i)`: four 32-bit words that depend
/// only on the seed and the block index. So a stream can be filled in parallel, in any order,
/// and the numbers are the same whatever the thread count. The generator remembers how many
/// blocks it has used; every call continues the stream. Each call starts on a fresh block,
/// so `normal(count: 3)` then `normal(count: 3)` uses blocks 0 and 1.
public struct RandomGenerator {
    public let seed: UInt64
    /// Index of the next unused 128-bit block.
    public private(set) var counter: UInt64 = 0

    public init(seed: UInt64) { self.seed = seed }

    /// A generator that continues a stream from block `counter` (to resume a run from a
    /// checkpoint that saved `seed` and `counter`).
    public init(seed: UInt64, counter: UInt64) { self.seed = seed; self.counter = counter }

    /// The four words of block `index`: ten Philox rounds.
    @inline(__always)
    static func block(seed: UInt64, index: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: index), c1 = UInt32(truncatingIfNeeded: index >> 32)
        var c2: UInt32 = 0, c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let n0 = UInt32(truncatingIfNeeded: p1 >> 32) ^ c1 ^ k0
            let n1 = UInt32(truncatingIfNeeded: p1)
            let n2 = UInt32(truncatingIfNeeded: p0 >> 32) ^ c3 ^ k1
            let n3 = UInt32(truncatingIfNeeded: p0)
            c0 = n0; c1 = n1; c2 = n2; c3 = n3
            k0 = k0 &+ 0x9E37_79B9; k1 = k1 &+ 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// A uniform in [0, 1) from the top 24 bits of a word.
    @inline(__always) static func unit(_ w: UInt32) -> Float { Float(w >> 8) * 0x1p-24 }
    /// A uniform in (0, 1), safe for `log`.
    @inline(__always) static func openUnit(_ w: UInt32) -> Float { (Float(w >> 8) + 0.5) * 0x1p-24 }

    /// Fills `count` values, four per block, calling `fill(blockIndex, firstOutput)` for
    /// each block in parallel chunks; advances the counter.
    private mutating func generate(_ count: Int, _ perBlock: (UInt64, Int, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        let blocks = (count + 3) / 4
        let base = counter
        counter += UInt64(blocks)
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            Parallel.forRanges(blocks, grain: 4096) { range in
                for b in range {
                    perBlock(base + UInt64(b), b * 4, p, min(4, count - b * 4))
                }
            }
        }
        return out
    }

    /// `count` samples of U[low, high).
    public mutating func uniform(count: Int, low: Float = 0, high: Float = 1) -> [Float] {
        let seed = self.seed
        return generate(count) { index, start, p, n in
            let (a, b, c, d) = RandomGenerator.block(seed: seed, index: index)
            let words = SIMD4<UInt32>(a, b, c, d)
            for j in 0..<n { p[start + j] = low + (high - low) * RandomGenerator.unit(words[j]) }
        }
    }

    /// `count` samples of N(mean, std²) by the Box–Muller transform:
    /// z₀ = √(−2 ln u₁) cos(2π u₂), z₁ = √(−2 ln u₁) sin(2π u₂).
    public mutating func normal(count: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        let seed = self.seed
        return generate(count) { index, start, p, n in
            let (a, b, c, d) = RandomGenerator.block(seed: seed, index: index)
            let (z0, z1) = RandomGenerator.boxMuller(a, b), (z2, z3) = RandomGenerator.boxMuller(c, d)
            let z = SIMD4<Float>(z0, z1, z2, z3)
            for j in 0..<n { p[start + j] = mean + std * z[j] }
        }
    }

    /// Two independent N(0, 1) values from two words (one Box–Muller pair).
    @inline(__always) static func boxMuller(_ u1w: UInt32, _ u2w: UInt32) -> (Float, Float) {
        let r = (-2 * Foundation.log(openUnit(u1w))).squareRoot()
        let theta = 2 * Float.pi * unit(u2w)
        return (r * Foundation.cos(theta), r * Foundation.sin(theta))
    }

    /// One uniform in [0, 1).
    public mutating func uniform() -> Float { uniform(count: 1)[0] }

    /// `count` integers uniform in 0..<upperBound (64-bit multiply-shift, bias < 2⁻³²).
    public mutating func integers(count: Int, below upperBound: Int) -> [Int] {
        precondition(upperBound > 0, "integers(below:) needs a positive bound, got \(upperBound)")
        var out = [Int](repeating: 0, count: count)
        for i in 0..<count {
            let (a, b, _, _) = RandomGenerator.block(seed: seed, index: counter)
            counter += 1
            let x = UInt64(a) << 32 | UInt64(b)
            out[i] = Int(x.multipliedFullWidth(by: UInt64(upperBound)).high)
        }
        return out
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        guard n > 1 else { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = integers(count: 1, below: i + 1)[0]
            p.swapAt(i, j)
        }
        return p
    }
}
