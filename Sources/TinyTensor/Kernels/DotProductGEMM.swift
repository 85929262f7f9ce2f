/// C = A · Bᵀ (+ β·C) as dot products, for operands whose rows run along K:
///
///     C[i, j] = Σ_p A[i, p] · B[j, p] + β · C[i, j]        A [M, K], B [N, K] (row strides lda, ldb)
///
/// The convolution's weight gradient dW = dY · colsᵀ has this shape: both dY [O, S·P] and the
/// im2col columns [C·k², S·P] are stored with the long pixel axis K contiguous. `gemm` would
/// first repack both operands transposed, one float at a time (at 28 channels that copying
/// costs as much as the multiply). Here a 4 × 6 tile of C is held as 24 vector accumulators
/// of 16 lanes: each step loads 16 consecutive values of 4 rows of A and 6 rows of B straight
/// from memory (no packing) and does 24 fused multiply-adds; lane l sums the products with
/// p ≡ l (mod 16). At the end of a K block the 16 lanes are added up (`sum()`) onto C.
///
/// With AVX2 or NEON (the narrow GEMM tile, GEMMMicroKernel.swift) the 24 accumulators would
/// need 48 ymm registers and spill, so the tile there is 2 × 3 (6 accumulators, 12 ymm).
///
/// K blocks (`kBlock`) depend only on K, and every element is summed the same way wherever
/// its tile sits (or whatever the tile), so the result depends only on the operands, never
/// on the thread count or the build.
enum DotProductGEMM {
    /// Columns of K per block: the 6 rows of B a tile reads (24 KB) stay in L1 while the
    /// 4 rows of A are reused across the whole row of tiles from L2.
    static let kBlock = 1024

    /// Six accumulators: one row of the 4 × 6 tile.
    struct Row {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
        var c3 = SIMD16<Float>(), c4 = SIMD16<Float>(), c5 = SIMD16<Float>()

        @inline(__always) mutating func add(_ a: SIMD16<Float>, _ b0: SIMD16<Float>, _ b1: SIMD16<Float>,
                                            _ b2: SIMD16<Float>, _ b3: SIMD16<Float>, _ b4: SIMD16<Float>,
                                            _ b5: SIMD16<Float>) {
            c0.addProduct(a, b0); c1.addProduct(a, b1); c2.addProduct(a, b2)
            c3.addProduct(a, b3); c4.addProduct(a, b4); c5.addProduct(a, b5)
        }

        @inline(__always) init() {}
        @inline(__always) init(c0: SIMD16<Float>, c1: SIMD16<Float>, c2: SIMD16<Float>) {
            self.c0 = c0; self.c1 = c1; self.c2 = c2
        }

        /// The first `count` (3) sums, for the narrow tile: the same expressions as `store`.
        @inline(__always) func store(_ c: UnsafeMutablePointer<Float>, beta: Float, count: Int) {
            if beta == 0 {
                c[0] = c0.sum(); c[1] = c1.sum(); c[2] = c2.sum()
            } else {
                c[0] = c0.sum() + beta * c[0]; c[1] = c1.sum() + beta * c[1]; c[2] = c2.sum() + beta * c[2]
            }
        }

        @inline(__always) func store(_ c: UnsafeMutablePointer<Float>, beta: Float) {
            if beta == 0 {
                c[0] = c0.sum(); c[1] = c1.sum(); c[2] = c2.sum(); c[3] = c3.sum(); c[4] = c4.sum(); c[5] = c5.sum()
            } else {
                c[0] = c0.sum() + beta * c[0]; c[1] = c1.sum() + beta * c[1]; c[2] = c2.sum() + beta * c[2]
                c[3] = c3.sum() + beta * c[3]; c[4] = c4.sum() + beta * c[4]; c[5] = c5.sum() + beta * c[5]
            }
        }
    }

    /// 16 values from `p` (`count` < 16 of them at the end of a row, the rest zero).
    @inline(__always) static func load(_ p: UnsafePointer<Float>, count: Int = 16) -> SIMD16<Float> {
        if count == 16 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        var v = SIMD16<Float>()
        for l in 0..<count { v[l] = p[l] }
        return v
    }

    @inline(never)
    static func run(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var p0 = 0
        repeat {
            let kb = min(kBlock, k - p0), betaHere: Float = p0 == 0 ? beta : 1
            if GEMMMicroKernel.tile == .narrow {
                runNarrow(m: m, n: n, kb: kb, a: a + p0, lda: lda, b: b + p0, ldb: ldb, beta: betaHere, c: c, ldc: ldc)
                p0 += kb
                continue
            }
            for i in stride(from: 0, to: m, by: 4) {
                for j in stride(from: 0, to: n, by: 6) {
                    if m - i >= 4 && n - j >= 6 {
                        tile(kb: kb, a: a + i * lda + p0, lda: lda, b: b + j * ldb + p0, ldb: ldb,
                             beta: betaHere, c: c + i * ldc + j, ldc: ldc)
                    } else {
                        edge(rows: min(4, m - i), cols: min(6, n - j), kb: kb, a: a + i * lda + p0, lda: lda,
                             b: b + j * ldb + p0, ldb: ldb, beta: betaHere, c: c + i * ldc + j, ldc: ldc)
                    }
                }
            }
            p0 += kb
        } while p0 < k
    }

    /// One full 4 × 6 tile over one K block.
    @inline(__always)
    static func tile(kb: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var r0 = Row(), r1 = Row(), r2 = Row(), r3 = Row()
        @inline(__always) func step(_ p: Int, _ count: Int) {
            let b0 = load(b + p, count: count), b1 = load(b + ldb + p, count: count)
            let b2 = load(b + 2 * ldb + p, count: count), b3 = load(b + 3 * ldb + p, count: count)
            let b4 = load(b + 4 * ldb + p, count: count), b5 = load(b + 5 * ldb + p, count: count)
            r0.add(load(a + p, count: count), b0, b1, b2, b3, b4, b5)
            r1.add(load(a + lda + p, count: count), b0, b1, b2, b3, b4, b5)
            r2.add(load(a + 2 * lda + p, count: count), b0, b1, b2, b3, b4, b5)
            r3.add(load(a + 3 * lda + p, count: count), b0, b1, b2, b3, b4, b5)
        }
        var p = 0
        while p + 16 <= kb { step(p, 16); p += 16 }
        if p < kb { step(p, kb - p) }
        r0.store(c, beta: beta); r1.store(c + ldc, beta: beta)
        r2.store(c + 2 * ldc, beta: beta); r3.store(c + 3 * ldc, beta: beta)
    }

    /// One K block of C with 2 × 3 tiles (for 16 vector registers; see the type's comment).
    static func runNarrow(m: Int, n: Int, kb: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                          ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in stride(from: 0, to: m, by: 2) {
            for j in stride(from: 0, to: n, by: 3) {
                if m - i >= 2 && n - j >= 3 {
                    tile2x3(kb: kb, a: a + i * lda, lda: lda, b: b + j * ldb, ldb: ldb,
                            beta: beta, c: c + i * ldc + j, ldc: ldc)
                } else {
                    edge(rows: min(2, m - i), cols: min(3, n - j), kb: kb, a: a + i * lda, lda: lda,
                         b: b + j * ldb, ldb: ldb, beta: beta, c: c + i * ldc + j, ldc: ldc)
                }
            }
        }
    }

    /// One full 2 × 3 tile over one K block: the same sums as `tile`, six at a time.
    @inline(never)
    static func tile2x3(kb: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c02 = SIMD16<Float>()
        var c10 = SIMD16<Float>(), c11 = SIMD16<Float>(), c12 = SIMD16<Float>()
        @inline(__always) func step(_ p: Int, _ count: Int) {
            let b0 = load(b + p, count: count), b1 = load(b + ldb + p, count: count)
            let b2 = load(b + 2 * ldb + p, count: count)
            let a0 = load(a + p, count: count), a1 = load(a + lda + p, count: count)
            c00.addProduct(a0, b0); c01.addProduct(a0, b1); c02.addProduct(a0, b2)
            c10.addProduct(a1, b0); c11.addProduct(a1, b1); c12.addProduct(a1, b2)
        }
        var p = 0
        while p + 16 <= kb { step(p, 16); p += 16 }
        if p < kb { step(p, kb - p) }
        Row(c0: c00, c1: c01, c2: c02).store(c, beta: beta, count: 3)
        Row(c0: c10, c1: c11, c2: c12).store(c + ldc, beta: beta, count: 3)
    }

    /// A partial tile at the bottom or right edge: the same sums, one element at a time.
    static func edge(rows: Int, cols: Int, kb: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                     ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<rows {
            for j in 0..<cols {
                var acc = SIMD16<Float>()
                var p = 0
                while p < kb {
                    let count = min(16, kb - p)
                    acc.addProduct(load(a + i * lda + p, count: count), load(b + j * ldb + p, count: count))
                    p += 16
                }
                let s = acc.sum()
                c[i * ldc + j] = beta == 0 ? s : s + beta * c[i * ldc + j]
            }
        }
    }
}
