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
/// need 48 ymm registers and spill. The tile there is 3 × 3 of 8-lane accumulators (9 ymm,
/// + 3 for B and 3 for A): it sums the low 8 lanes of every 16-float step over a stretch of
/// K, then the high 8, and joins the halves into the same 16 lane sums before adding them up
/// (`narrowTile`).
///
/// K blocks (`kBlock`) depend only on K, and every element is summed the same way wherever
/// its tile sits (or whatever the tile), so the result depends only on the operands, never
/// on the thread count or the build.
enum DotProductGEMM {
    /// Columns of K per block (4 KB per row): the rows of the outer operand that a tile reads
    /// (at most 6, 24 KB) stay in L1 while the inner one's come from L2 (`forEachTile`).
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
            switch GEMMMicroKernel.tile {
            case .wide:
                runWide(m: m, n: n, kb: kb, a: a + p0, lda: lda, b: b + p0, ldb: ldb, beta: betaHere, c: c, ldc: ldc)
            case .narrow:
                runNarrow(m: m, n: n, kb: kb, a: a + p0, lda: lda, b: b + p0, ldb: ldb, beta: betaHere, c: c, ldc: ldc)
            }
            p0 += kb
        } while p0 < k
    }

    /// One K block of C with 4 × 6 tiles (for 32 vector registers of 16 floats).
    static func runWide(m: Int, n: Int, kb: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                        ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        forEachTile(m: m, n: n, rows: 4, cols: 6) { i, j in
            if m - i >= 4 && n - j >= 6 {
                tile(kb: kb, a: a + i * lda, lda: lda, b: b + j * ldb, ldb: ldb,
                     beta: beta, c: c + i * ldc + j, ldc: ldc)
            } else {
                edge(rows: min(4, m - i), cols: min(6, n - j), kb: kb, a: a + i * lda, lda: lda,
                     b: b + j * ldb, ldb: ldb, beta: beta, c: c + i * ldc + j, ldc: ldc)
            }
        }
    }

    /// Calls `body(i, j)` for the top-left corner of every `rows` × `cols` tile of an m × n C.
    ///
    /// A tile reads its rows of A and of B over the whole K block (4 KB each): the operand of
    /// the inner loop is read again for every tile of the outer one, the other stays in L1.
    /// So the inner loop runs over the operand with fewer rows, which then stays in L2 (one
    /// K block of 64 rows is 256 KB), while the larger one (the 252–504 patch rows of a 3×3
    /// convolution's columns, 1–2 MB) is read from L3 once per K block instead of once per
    /// row of tiles. Only the order of the tiles changes, not any sum: the same bits.
    @inline(__always)
    static func forEachTile(m: Int, n: Int, rows: Int, cols: Int, _ body: (Int, Int) -> Void) {
        if m <= n {
            for j in stride(from: 0, to: n, by: cols) { for i in stride(from: 0, to: m, by: rows) { body(i, j) } }
        } else {
            for i in stride(from: 0, to: m, by: rows) { for j in stride(from: 0, to: n, by: cols) { body(i, j) } }
        }
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

    /// One K block of C with 3 × 3 tiles (for 16 vector registers; see the type's comment); the
    /// last one or two rows with 1 × 3 or 2 × 3 tiles, the last columns element by element.
    static func runNarrow(m: Int, n: Int, kb: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                          ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        forEachTile(m: m, n: n, rows: 3, cols: 3) { i, j in
            let ai = a + i * lda, bj = b + j * ldb, cij = c + i * ldc + j
            if n - j < 3 {
                edge(rows: min(3, m - i), cols: n - j, kb: kb, a: ai, lda: lda, b: bj, ldb: ldb,
                     beta: beta, c: cij, ldc: ldc)
            } else if m - i >= 3 {
                narrowTile(Rows3.self, kb: kb, a: ai, lda: lda, b: bj, ldb: ldb, beta: beta, c: cij, ldc: ldc)
            } else if m - i == 2 {
                narrowTile(Rows2.self, kb: kb, a: ai, lda: lda, b: bj, ldb: ldb, beta: beta, c: cij, ldc: ldc)
            } else {
                narrowTile(Rows1.self, kb: kb, a: ai, lda: lda, b: bj, ldb: ldb, beta: beta, c: cij, ldc: ldc)
            }
        }
    }

    /// Half of a 3 × 3 tile's accumulators: lanes 0..<8 or 8..<16 of the nine `SIMD16` sums.
    struct HalfTile {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c22 = SIMD8<Float>()
    }

    /// 8 values from `p` (`count` of them, 0 ≤ count ≤ 8, the rest zero).
    @inline(__always) static func load8(_ p: UnsafePointer<Float>, count: Int) -> SIMD8<Float> {
        if count == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        var v = SIMD8<Float>()
        for l in 0..<count { v[l] = p[l] }
        return v
    }

    /// Adds the products of the 16-float steps p = from, from + 16, … < to into one half of the
    /// tile: lanes `half ..< half + 8` of each step (`half` is 0 or 8), zeros past `kb`. The
    /// accumulators (9 ymm) stay in registers for the whole stretch, in memory between calls.
    @inline(never)
    static func accumulate<H: TileHeight>(_: H.Type, _ acc: inout HalfTile, half: Int, from: Int, to: Int, kb: Int,
                                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int) {
        var t = acc
        @inline(__always) func step(_ p: Int, _ count: Int) {
            let q = p + half
            let b0 = load8(b + q, count: count), b1 = load8(b + ldb + q, count: count)
            let b2 = load8(b + 2 * ldb + q, count: count)
            let a0 = load8(a + q, count: count)
            t.c00.addProduct(a0, b0); t.c01.addProduct(a0, b1); t.c02.addProduct(a0, b2)
            if H.rows > 1 {
                let a1 = load8(a + lda + q, count: count)
                t.c10.addProduct(a1, b0); t.c11.addProduct(a1, b1); t.c12.addProduct(a1, b2)
            }
            if H.rows > 2 {
                let a2 = load8(a + 2 * lda + q, count: count)
                t.c20.addProduct(a2, b0); t.c21.addProduct(a2, b1); t.c22.addProduct(a2, b2)
            }
        }
        var p = from
        let full = min(to, kb / 16 * 16)                // steps with all 16 floats inside K
        while p < full { step(p, 8); p += 16 }
        if p < to { step(p, max(0, min(8, kb - p - half))) }
        acc = t
    }

    /// One full H × 3 tile over one K block: the same sums as `tile`.
    ///
    /// Lane l of `tile`'s accumulators sums the products at p ≡ l (mod 16), one fused
    /// multiply-add per step in the order of p. Here K is walked in stretches of 256: the low
    /// lanes over the stretch, then the high lanes over the same stretch (its 6 rows of 1 KB
    /// are still in L1). Each lane still sees its products in the same order, and the halves
    /// are joined into `SIMD16`s before `sum()`, so the bits are those of the wide tile.
    @inline(never)
    static func narrowTile<H: TileHeight>(_: H.Type, kb: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                                      ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var lo = HalfTile(), hi = HalfTile()
        var p = 0
        while p < kb {
            let end = min(kb, p + 256)
            accumulate(H.self, &lo, half: 0, from: p, to: end, kb: kb, a: a, lda: lda, b: b, ldb: ldb)
            accumulate(H.self, &hi, half: 8, from: p, to: end, kb: kb, a: a, lda: lda, b: b, ldb: ldb)
            p = end
        }
        @inline(__always) func row(_ l0: SIMD8<Float>, _ l1: SIMD8<Float>, _ l2: SIMD8<Float>,
                                   _ h0: SIMD8<Float>, _ h1: SIMD8<Float>, _ h2: SIMD8<Float>) -> Row {
            Row(c0: SIMD16(lowHalf: l0, highHalf: h0), c1: SIMD16(lowHalf: l1, highHalf: h1),
                c2: SIMD16(lowHalf: l2, highHalf: h2))
        }
        row(lo.c00, lo.c01, lo.c02, hi.c00, hi.c01, hi.c02).store(c, beta: beta, count: 3)
        if H.rows > 1 { row(lo.c10, lo.c11, lo.c12, hi.c10, hi.c11, hi.c12).store(c + ldc, beta: beta, count: 3) }
        if H.rows > 2 { row(lo.c20, lo.c21, lo.c22, hi.c20, hi.c21, hi.c22).store(c + 2 * ldc, beta: beta, count: 3) }
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
