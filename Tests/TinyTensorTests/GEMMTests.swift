import Testing
import TinyTensor

/// The fast `gemm` against the plain `referenceGemm`: every transpose combination, sizes
/// that leave partial 12 × 32 tiles and split K, M and N into several cache blocks, narrow
/// products (computed as Cᵀ),
/// row strides wider than the matrices, α/β values, and bit-identical results for 1 and
/// 2 threads.
@Suite(.serialized) struct GEMMTests {
    /// One gemm problem with its own random operands, stored with the given row strides.
    struct Case {
        var transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int
        var alpha: Float = 1, beta: Float = 0
        var padA = 0, padB = 0, padC = 0          // extra elements at the end of each row
        var seed: UInt64 = 7

        var lda: Int { (transA ? m : k) + padA }
        var ldb: Int { (transB ? k : n) + padB }
        var ldc: Int { n + padC }
        var aRows: Int { transA ? k : m }
        var bRows: Int { transB ? n : k }

        func operands() -> (a: [Float], b: [Float], c: [Float]) {
            var random = RandomGenerator(seed: seed)
            return (random.normal(count: aRows * lda), random.normal(count: bRows * ldb),
                    random.normal(count: m * ldc))
        }

        /// Runs `gemm` (or `referenceGemm`) on a copy of `c` and returns the new C.
        func run(reference: Bool, a: [Float], b: [Float], c: [Float]) -> [Float] {
            var out = c
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        let f = reference ? referenceGemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)
                                          : gemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)
                        f(transA, transB, m, n, k, alpha, pa.baseAddress!, lda, pb.baseAddress!, ldb,
                          beta, pc.baseAddress!, ldc)
                    }
                }
            }
            return out
        }

        /// A bound on |gemm − reference| for C[i, j]: each of the two sums of k products
        /// is within k·ε·Σ|a·b| of the exact one (the standard dot-product bound), plus
        /// the rounding of α·s + β·c.
        func tolerance(_ a: [Float], _ b: [Float], _ c: [Float], _ i: Int, _ j: Int) -> Float {
            var magnitude: Float = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                magnitude += abs(av * bv)
            }
            let scale = abs(alpha) * magnitude + (beta == 0 ? 0 : abs(beta * c[i * ldc + j]))
            return 2 * Float(k + 3) * Float.ulpOfOne * scale + Float.leastNormalMagnitude
        }
    }

    /// Checks gemm against referenceGemm inside C and that the padding of C is untouched.
    func check(_ t: Case, cGarbage: Float? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        var (a, b, c) = t.operands()
        let expected = t.run(reference: true, a: a, b: b, c: c)
        if let garbage = cGarbage {               // β == 0 must not read C
            for i in 0..<t.m { for j in 0..<t.n { c[i * t.ldc + j] = garbage } }
        }
        let got = t.run(reference: false, a: a, b: b, c: c)
        var bad = 0
        var first = ""
        for i in 0..<t.m {
            for j in 0..<t.ldc {
                let index = i * t.ldc + j
                let ok = j < t.n
                    ? abs(got[index] - expected[index]) <= t.tolerance(a, b, c, i, j)
                    : got[index].bitPattern == c[index].bitPattern
                if !ok {
                    if bad == 0 { first = "C[\(i), \(j)] = \(got[index]), expected \(expected[index])" }
                    bad += 1
                }
            }
        }
        #expect(bad == 0, "\(t): \(bad) wrong elements, first \(first)", sourceLocation: sourceLocation)
    }

    static let transposes = [(false, false), (false, true), (true, false), (true, true)]

    // M picks the tile height (GEMMMicroKernel.rows(for:)): 12 rows for 1, 17, 31, 32, 128,
    // 257, 300; 14 rows for 13, 28, 40, 65, 112.
    @Test(arguments: [(1, 1, 1), (3, 17, 31), (17, 31, 3), (12, 32, 5), (31, 65, 130),
                      (65, 130, 257), (257, 65, 130), (13, 33, 600), (300, 70, 45), (40, 2100, 7),
                      (32, 2, 128), (128, 2, 32), (200, 5, 40), (28, 70, 300), (112, 45, 520)])
    func matchesReferenceForAllTransposes(size: (Int, Int, Int)) {
        for (ta, tb) in Self.transposes {
            check(Case(transA: ta, transB: tb, m: size.0, n: size.1, k: size.2))
        }
    }

    @Test func stridedRowsLeaveThePaddingAlone() {
        for (ta, tb) in Self.transposes {
            check(Case(transA: ta, transB: tb, m: 31, n: 45, k: 17, padA: 3, padB: 5, padC: 7))
            check(Case(transA: ta, transB: tb, m: 130, n: 33, k: 300, padA: 1, padB: 16, padC: 2))
        }
    }

    @Test(arguments: [(Float(1), Float(0)), (2.5, 0), (1, 1), (-0.5, 2), (1, -1), (0.25, 0.5)])
    func alphaAndBeta(scales: (Float, Float)) {
        for (ta, tb) in Self.transposes {
            check(Case(transA: ta, transB: tb, m: 17, n: 65, k: 31, alpha: scales.0, beta: scales.1, padC: 3))
            check(Case(transA: ta, transB: tb, m: 70, n: 40, k: 513, alpha: scales.0, beta: scales.1))
        }
    }

    @Test func betaZeroDoesNotReadC() {
        for (ta, tb) in Self.transposes {
            check(Case(transA: ta, transB: tb, m: 29, n: 67, k: 19, alpha: 1.5, beta: 0), cGarbage: .nan)
            check(Case(transA: ta, transB: tb, m: 100, n: 100, k: 300, beta: 0), cGarbage: .infinity)
        }
    }

    @Test func zeroAlphaOrZeroKScalesC() {
        check(Case(transA: false, transB: false, m: 5, n: 7, k: 0, beta: 3))
        check(Case(transA: false, transB: false, m: 5, n: 7, k: 0, beta: 0), cGarbage: .nan)
        check(Case(transA: true, transB: false, m: 9, n: 4, k: 6, alpha: 0, beta: -2))
    }

    /// Shapes large enough to run on every thread, split along M (tall) or N (wide).
    @Test(arguments: [(300, 300, 300), (1000, 64, 70), (64, 3000, 70), (37, 1100, 260), (5000, 3, 100)])
    func sameBitsForOneAndTwoThreads(size: (Int, Int, Int)) {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for (ta, tb) in Self.transposes {
            let t = Case(transA: ta, transB: tb, m: size.0, n: size.1, k: size.2, alpha: 0.5, beta: 0.75)
            let (a, b, c) = t.operands()
            Parallel.threadCount = 1
            let one = t.run(reference: false, a: a, b: b, c: c)
            Parallel.threadCount = 2
            let two = t.run(reference: false, a: a, b: b, c: c)
            Parallel.threadCount = 3
            let three = t.run(reference: false, a: a, b: b, c: c)
            // Count differing bit patterns (an array == in #expect would diff 90 000 elements).
            let differ2 = zip(one, two).filter { $0.bitPattern != $1.bitPattern }.count
            let differ3 = zip(one, three).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differ2 == 0, "\(t): \(differ2) elements differ between 1 and 2 threads")
            #expect(differ3 == 0, "\(t): \(differ3) elements differ between 1 and 3 threads")
        }
    }
}
