import Testing
@testable import TinyTensor

/// Every register tile against one exact definition: each element of C is the fused sum
/// acc = fma(A[i, p], B[p, j], acc) for p in order, block by block of `GEMMBlocking.kc`, written
/// back as α·acc + β·C (β = 1 after the first block). All tiles (14 × 32 and 12 × 32 for AVX-512,
/// 6 × 16 twice for AVX2 and NEON) must give exactly these bits, whichever the build runs, so
/// an AVX2 build and an AVX-512 build produce the same numbers. The tile heights are run here
/// directly in every build (slow where they spill, but correct).
@Suite(.serialized) struct MicroKernelTests {
    /// The exact, blocked, fused definition of `gemm`'s result (see above).
    static func fusedReference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                               a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        let kc = GEMMBlocking.blockSize(total: k, maxBlock: GEMMBlocking.kc, unit: 1)
        for i in 0..<m {
            for j in 0..<n {
                var value = c[i * ldc + j]
                for pc in stride(from: 0, to: k, by: kc) {
                    var acc: Float = 0
                    for p in pc..<min(k, pc + kc) {
                        let av = transA ? a[p * lda + i] : a[i * lda + p]
                        let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                        acc = acc.addingProduct(av, bv)
                    }
                    let betaHere: Float = pc == 0 ? beta : 1
                    value = betaHere == 0 ? alpha * acc : alpha * acc + betaHere * value
                }
                out[i * ldc + j] = value
            }
        }
        return out
    }

    static func differing(_ x: [Float], _ y: [Float]) -> Int {
        zip(x, y).filter { $0.bitPattern != $1.bitPattern }.count
    }

    /// The first element where `x` and `y` differ and by how many ULPs (for failure messages).
    static func firstDifference(_ x: [Float], _ y: [Float]) -> String {
        guard let k = x.indices.first(where: { x[$0].bitPattern != y[$0].bitPattern }) else { return "no difference" }
        // Floats in order as integers: +0 and −0 both 0, one step per representable float.
        func ordinal(_ v: Float) -> Int64 {
            let magnitude = Int64(v.bitPattern & 0x7fff_ffff)
            return v.sign == .minus ? -magnitude : magnitude
        }
        let ulps = ordinal(x[k]) - ordinal(y[k])
        return "first at index \(k): \(x[k]) instead of \(y[k]) (\(ulps) ULP)"
    }

    /// One micro-kernel call on packed panels: `rows` × `cols` of an mr × 32 tile, C written
    /// row-major (column stride 1) or as `gemm` writes the Cᵀ of narrow products (row stride 1,
    /// column stride = C's leading dimension ≥ rows).
    ///
    /// The column stride must be at least `rows`: with row stride 1 and a smaller column stride
    /// (it was 3), C[i, j] and C[i + 3, j − 1] are the same float. The result then depends on
    /// which one the kernel writes last and on whether β·C reads an already overwritten value,
    /// so every tile "failed" with differences of millions of ULPs in every build (and the
    /// 6 × 16 tile even with β = 0, because it writes columns 0..<16 of all rows before 16..<32).
    /// `gemm` never does that: it uses the Cᵀ layout with column stride ldc ≥ n.
    @Test(arguments: [14, 12, 6])
    func everyTileHeightGivesTheFusedSum(mr: Int) {
        var random = RandomGenerator(seed: 11)
        for (rows, cols, kc) in [(mr, 32, 37), (mr - 1, 32, 5), (1, 17, 64), (mr, 16, 256), (3, 15, 1), (mr, 31, 100), (2, 1, 9)] {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 0.75), (-2, 1)] {
                for transposedC in [false, true] {
                    let a = random.normal(count: rows * kc), b = random.normal(count: kc * cols)
                    let (ldc, columnStride) = transposedC ? (1, rows + 2) : (cols + 5, 1)
                    let cCount = transposedC ? cols * columnStride : rows * ldc
                    let c0 = random.normal(count: cCount)
                    // Packed panels, zero-padded to mr × kc and kc × 32 (b 64-byte aligned).
                    let aPacked = allocateFloats(mr * kc), bPacked = allocateFloats(32 * kc)
                    defer { aPacked.deallocate(); bPacked.deallocate() }
                    a.withUnsafeBufferPointer { GEMMPack.packA(mr: mr, transA: false, a: $0.baseAddress!, lda: kc, i0: 0, p0: 0,
                                                               mc: rows, kc: kc, into: aPacked) }
                    b.withUnsafeBufferPointer { GEMMPack.packB(transB: false, b: $0.baseAddress!, ldb: cols, p0: 0, j0: 0,
                                                               kc: kc, nc: cols, into: bPacked) }
                    var c = c0
                    c.withUnsafeMutableBufferPointer {
                        GEMMMicroKernel.run(mr: mr, kc: kc, a: aPacked, b: bPacked, c: $0.baseAddress!, ldc: ldc,
                                            cColumnStride: columnStride, rows: rows, cols: cols, alpha: alpha, beta: beta)
                    }
                    // The expected C, element by element, in the same strided layout.
                    var expected = c0
                    for i in 0..<rows {
                        for j in 0..<cols {
                            var acc: Float = 0
                            for p in 0..<kc { acc = acc.addingProduct(a[i * kc + p], b[p * cols + j]) }
                            let index = i * ldc + j * columnStride
                            expected[index] = beta == 0 ? alpha * acc : alpha * acc + beta * c0[index]
                        }
                    }
                    #expect(Self.differing(c, expected) == 0,
                            "mr \(mr): \(rows)×\(cols), kc \(kc), α \(alpha) β \(beta), column stride \(columnStride): \(Self.firstDifference(c, expected))")
                }
            }
        }
    }

    /// `gemm` (with the tile this build uses) equals the fused definition bit for bit: every
    /// transpose, edge tiles in M and N, several K blocks, β ≠ 0, narrow products computed as
    /// Cᵀ, and 1 or 3 threads.
    @Test(arguments: [(1, 1, 1), (5, 17, 3), (6, 16, 40), (7, 33, 300), (13, 65, 17), (28, 70, 513),
                      (112, 45, 130), (61, 2, 90), (300, 300, 300), (37, 1100, 260)])
    func gemmGivesTheFusedSumOnAnyThreadCount(size: (Int, Int, Int)) {
        let (m, n, k) = size
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var random = RandomGenerator(seed: 5)
        for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, -0.25)] {
                let lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3
                let a = random.normal(count: (transA ? k : m) * lda), b = random.normal(count: (transB ? n : k) * ldb)
                let c0 = random.normal(count: m * ldc)
                let expected = Self.fusedReference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c0, ldc: ldc)
                for threads in [1, 3] {
                    Parallel.threadCount = threads
                    var c = c0
                    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!, lda: lda,
                             b: pb.baseAddress!, ldb: ldb, beta: beta, c: pc.baseAddress!, ldc: ldc)
                    } } }
                    #expect(Self.differing(c, expected) == 0,
                            "\(GEMMMicroKernel.name): \(m)×\(n)×\(k) transA \(transA) transB \(transB) β \(beta), \(threads) thread(s)")
                }
            }
        }
    }
}
