/// Packing: copying a block of A or B into the exact order the micro-kernel reads it.
///
/// The micro-kernel (GEMMMicroKernel.swift) walks p = 0..<kc and at each step wants
/// mr (14, 12 or 6) consecutive values of A's column p and 32 consecutive values of B's row p. In the
/// caller's matrices those values are scattered (a row stride apart, or transposed), so
/// before the heavy loops each block is copied once into a small contiguous buffer:
///
///     packed A block (mc × kc):  ⌈mc/mr⌉ micro-panels, each kc × mr:  Ã[p * mr + i]
///     packed B block (kc × nc):  ⌈nc/32⌉ micro-panels, each kc × 32:  B̃[p * 32 + j]
///
/// After packing every load in the inner loop is sequential, the buffers fit the caches
/// they are meant for, and the transposes are free: `transA`/`transB` only change how the
/// packing reads the source, never the micro-kernel. Rows or columns past the edge of
/// the matrix are filled with zeros, so the micro-kernel always runs on a full tile.
///
/// op(A)[i, p] = transA ? a[p * lda + i] : a[i * lda + p]     (op(A) is [M, K])
/// op(B)[p, j] = transB ? b[j * ldb + p] : b[p * ldb + j]     (op(B) is [K, N])
///
/// The loops walk pointers instead of computing `i * lda + p`: the operands' extents were
/// checked by the op that called `gemm`, and Swift's overflow check on every index product
/// (a compare and branch per float) had cost a fifth of the packing time.
enum GEMMPack {
    /// Packs rows `i0 ..< i0 + mc` and columns `p0 ..< p0 + kc` of op(A) into `dst`,
    /// as ⌈mc/mr⌉ micro-panels of kc × mr floats (mr = 14, 12 or 6, the tile height).
    static func packA(mr: Int, transA: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, p0: Int,
                      mc: Int, kc: Int, into dst: UnsafeMutablePointer<Float>) {
        var out = dst
        for ir in stride(from: 0, to: mc, by: mr) {
            let rows = min(mr, mc - ir)
            if transA {
                // op(A)'s column p is A's row p: mr consecutive floats per step.
                let start = a + p0 * lda + i0 + ir
                withPanelHeight(rows: rows, mr: mr) { count, width in
                    copyRuns(start, stride: lda, count: count, width: width, steps: kc, into: out)
                }
            } else {
                // op(A)'s column p takes one value from each of the mr rows of A. The packed
                // buffer is written in order (loads strided, stores consecutive): written
                // mr apart instead, the compiler turns the loop into scatter stores, which
                // are many times slower than gathering.
                let column = a + (i0 + ir) * lda + p0       // A[i0 + ir, p]
                withPanelHeight(rows: rows, mr: mr) { count, width in
                    gatherRuns(column, stride: lda, count: count, width: width, steps: kc, into: out)
                }
            }
            out += kc * mr
        }
    }

    /// Calls `body(rows, mr)`, with literal numbers when the micro-panel is whole (6, 12 or 14
    /// rows): once inlined, the loops over its rows then unroll. (With the count known only at
    /// run time they cost a loop per column: most of the packing time of attention's small
    /// products.)
    @inline(__always)
    static func withPanelHeight(rows: Int, mr: Int, _ body: (Int, Int) -> Void) {
        switch (rows, mr) {
        case (6, 6): body(6, 6)
        case (12, 12): body(12, 12)
        case (14, 14): body(14, 14)
        default: body(rows, mr)
        }
    }

    /// out[p·width + i] = src[p·stride + i] for i < count, and 0 for count ≤ i < width, for each
    /// p < steps: runs of consecutive floats, each padded to `width`.
    @inline(__always)
    static func copyRuns(_ src: UnsafePointer<Float>, stride: Int, count: Int, width: Int, steps: Int,
                         into out: UnsafeMutablePointer<Float>) {
        var src = src, out = out
        for _ in 0..<steps {
            for i in 0..<count { out[i] = src[i] }
            for i in count..<width { out[i] = 0 }
            src += stride
            out += width
        }
    }

    /// out[p·width + i] = src[i·stride + p] for i < count, and 0 for count ≤ i < width, for each
    /// p < steps: one float gathered from each of `count` rows per step, padded to `width`.
    @inline(__always)
    static func gatherRuns(_ src: UnsafePointer<Float>, stride: Int, count: Int, width: Int, steps: Int,
                           into out: UnsafeMutablePointer<Float>) {
        var column = src, out = out
        for _ in 0..<steps {
            var row = column
            for i in 0..<count { out[i] = row.pointee; row += stride }
            for i in count..<width { out[i] = 0 }
            column += 1
            out += width
        }
    }

    /// dst[u·dstStride + t] = src[t·srcStride + u] for t, u < 8: an 8 × 8 block transposed in
    /// registers. Three rounds of "unzip" (evens of two vectors, then odds) on the 64 values as
    /// one sequence: each round moves the lowest bit of an index (t, u) = 8t + u to the top, so
    /// three rounds turn 8t + u into 8u + t.
    @inline(__always)
    static func transpose8(_ src: UnsafePointer<Float>, _ srcStride: Int, into dst: UnsafeMutablePointer<Float>,
                           _ dstStride: Int) {
        @inline(__always) func row(_ t: Int) -> SIMD8<Float> {
            UnsafeRawPointer(src + t * srcStride).loadUnaligned(as: SIMD8<Float>.self)
        }
        @inline(__always) func unzip(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
            let both = SIMD16(lowHalf: a, highHalf: b)
            return (both.evenHalf, both.oddHalf)
        }
        var (x0, x1, x2, x3, x4, x5, x6, x7) = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
        for _ in 0..<3 {
            let (y0, y4) = unzip(x0, x1), (y1, y5) = unzip(x2, x3)
            let (y2, y6) = unzip(x4, x5), (y3, y7) = unzip(x6, x7)
            (x0, x1, x2, x3, x4, x5, x6, x7) = (y0, y1, y2, y3, y4, y5, y6, y7)
        }
        @inline(__always) func put(_ v: SIMD8<Float>, _ u: Int) {
            UnsafeMutableRawPointer(dst + u * dstStride).storeBytes(of: v, as: SIMD8<Float>.self)
        }
        put(x0, 0); put(x1, 1); put(x2, 2); put(x3, 3); put(x4, 4); put(x5, 5); put(x6, 6); put(x7, 7)
    }

    /// Packs rows `p0 ..< p0 + kc` and columns `j0 ..< j0 + nc` of op(B) into `dst`
    /// (64-byte aligned), as ⌈nc/32⌉ micro-panels of kc × 32 floats.
    static func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, j0: Int,
                      kc: Int, nc: Int, into dst: UnsafeMutablePointer<Float>) {
        let nr = GEMMMicroKernel.nr
        var out = dst
        for jr in stride(from: 0, to: nc, by: nr) {
            let cols = min(nr, nc - jr)
            if transB {
                // op(B) = Bᵀ: op(B)'s row p takes one value from each of 32 rows of B,
                // gathered so that the packed panel is written in order (as in packA).
                var column = b + (j0 + jr) * ldb + p0       // B[j0 + jr, p]
                var o = out, done = 0
                if cols == nr {
                    // Whole panels: 8 × 8 blocks (8 rows of B, 8 values of p each) loaded as
                    // vectors and transposed in registers, instead of one strided float at a time.
                    while done + 8 <= kc {
                        for group in 0..<4 {
                            transpose8(column + group * 8 * ldb, ldb, into: o + group * 8, nr)
                        }
                        column += 8
                        o += 8 * nr
                        done += 8
                    }
                }
                gatherRuns(column, stride: ldb, count: cols, width: nr, steps: kc - done, into: o)
            } else if cols == nr {
                // The common case: 32 consecutive floats of B's row p, copied as two vectors.
                var src = UnsafeRawPointer(b + p0 * ldb + j0 + jr)
                var o = UnsafeMutableRawPointer(out)
                let rowBytes = ldb * 4
                for _ in 0..<kc {
                    o.storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                    o.storeBytes(of: src.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self),
                                 toByteOffset: 64, as: SIMD16<Float>.self)
                    src += rowBytes
                    o += nr * 4
                }
            } else {
                copyRuns(b + p0 * ldb + j0 + jr, stride: ldb, count: cols, width: nr, steps: kc, into: out)
            }
            out += kc * nr
        }
    }
}
