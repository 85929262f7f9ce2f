/// The innermost piece of the fast matrix product: a 14 × 32 (or 12 × 32) tile of C held in
/// registers.
///
/// The micro-kernel computes one tile
///
///     C[i, j] = α · Σ_p Ã[i, p] · B̃[p, j] + β · C[i, j]      (0 ≤ i < 14, 0 ≤ j < 32, 0 ≤ p < kc)
///
/// where Ã is a packed *micro-panel* of A (kc columns of 14 values, see GEMMPack.swift) and
/// B̃ a packed micro-panel of B (kc rows of 32 values). For each p it loads one row of B̃
/// (32 floats = two `SIMD16<Float>`), broadcasts each of the 14 values of Ã's column p, and
/// does 28 fused multiply-adds into 28 accumulators. On AVX-512 every `SIMD16<Float>` is one
/// 512-bit `zmm` register: 28 accumulators + 2 for B̃ + 1–2 broadcasts fit the 32 registers
/// (checked in the disassembly: no spills), so the whole inner loop runs without touching
/// memory except for reading Ã and B̃.
///
/// Two tile heights, 14 and 12 rows, chosen per product by `rows(for:)`: whichever pads M
/// less. The U-Net's channel counts are multiples of 28 (28, 56, 112, 168), which 14 rows
/// fill exactly where 12 would waste 7–22 % (112 = 9·12 + 4); the MLP's batch of 32 rows
/// fits 12 better (36 rows against 42).
/// On machines with 128-bit NEON the same code compiles to four registers per `SIMD16`
/// (slower, but correct and portable: no x86 intrinsics are used).
///
/// Why the fused multiply-add (`addProduct`) and not `acc + a * b`: Swift does not fuse
/// `a * b + c` on its own, so writing the product out would cost two instructions and two
/// roundings. `SIMD16.addProduct` becomes one `vfmadd231ps` per 16 lanes.
///
/// Every lane sums its products in the order p = 0, 1, ..., kc − 1, so the result does not
/// depend on where the tile sits in C or on which thread computes it.
enum GEMMMicroKernel {
    /// The largest tile height (for sizing buffers).
    static let maxRows = 14
    /// Columns of the register tile (two `SIMD16<Float>` per row).
    static let nr = 32

    /// The tile height for a product with `m` rows: 14 unless 12 pads M less.
    static func rows(for m: Int) -> Int {
        (m + 13) / 14 * 14 <= (m + 11) / 12 * 12 ? 14 : 12
    }

    /// One row of the register tile: 32 floats as two 16-lane vectors.
    struct Row {
        var lo = SIMD16<Float>()
        var hi = SIMD16<Float>()

        @inline(__always) init() {}
        @inline(__always) init(lo: SIMD16<Float>, hi: SIMD16<Float>) { self.lo = lo; self.hi = hi }

        /// Loads 32 consecutive floats (the packed buffer is 64-byte aligned).
        @inline(__always) init(alignedAt p: UnsafePointer<Float>) {
            let raw = UnsafeRawPointer(p)
            lo = raw.load(as: SIMD16<Float>.self)
            hi = raw.load(fromByteOffset: 64, as: SIMD16<Float>.self)
        }

        /// self += a · b, lane by lane, fused (one rounding).
        @inline(__always) mutating func addProduct(_ a: Float, _ b: Row) {
            let av = SIMD16<Float>(repeating: a)
            lo.addProduct(av, b.lo)
            hi.addProduct(av, b.hi)
        }
    }

    /// Runs one `mr` × 32 tile (mr = 12 or 14) over `kc` packed steps and writes `rows` × `cols`
    /// of it into C.
    ///
    /// - Parameters:
    ///   - a: packed micro-panel of A, `kc` groups of `mr` floats (`a[p * mr + i]`).
    ///   - b: packed micro-panel of B, `kc` groups of 32 floats (`b[p * 32 + j]`), 64-byte aligned.
    ///   - c: top-left element of the tile in C; C[i, j] is at `c[i * ldc + j * cColumnStride]`
    ///     (`cColumnStride` is 1 except when `gemm` computes Cᵀ, see GEMM.swift).
    ///   - rows, cols: how much of the tile lies inside C (≤ mr, ≤ 32); the padded rest of
    ///     the packed panels holds zeros and is computed but never stored.
    ///   - beta: 0 means "overwrite C without reading it".
    @inline(__always)
    static func run(mr: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>, ldc: Int, cColumnStride: Int,
                    rows: Int, cols: Int, alpha: Float, beta: Float) {
        if mr == 14 {
            run14(kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
                  alpha: alpha, beta: beta)
        } else {
            run12(kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
                  alpha: alpha, beta: beta)
        }
    }

    @inline(never)
    static func run14(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                      ldc: Int, cColumnStride: Int, rows: Int, cols: Int, alpha: Float, beta: Float) {
        tile(Rows14.self, kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
             alpha: alpha, beta: beta)
    }

    @inline(never)
    static func run12(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                      ldc: Int, cColumnStride: Int, rows: Int, cols: Int, alpha: Float, beta: Float) {
        tile(Rows12.self, kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
             alpha: alpha, beta: beta)
    }

    /// A tile height known at compile time, so that the specialised `tile` has no branch.
    protocol Height { static var rows: Int { get } }
    enum Rows12: Height { static var rows: Int { 12 } }
    enum Rows14: Height { static var rows: Int { 14 } }

    @inline(__always)
    static func tile<H: Height>(_: H.Type, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                c: UnsafeMutablePointer<Float>, ldc: Int, cColumnStride: Int,
                                rows: Int, cols: Int, alpha: Float, beta: Float) {
        var c0 = Row(), c1 = Row(), c2 = Row(), c3 = Row(), c4 = Row(), c5 = Row()
        var c6 = Row(), c7 = Row(), c8 = Row(), c9 = Row(), c10 = Row(), c11 = Row()
        var c12 = Row(), c13 = Row()
        var ap = a, bp = b
        for _ in 0..<kc {
            let bRow = Row(alignedAt: bp)               // B̃[p, 0..<32]
            c0.addProduct(ap[0], bRow); c1.addProduct(ap[1], bRow)
            c2.addProduct(ap[2], bRow); c3.addProduct(ap[3], bRow)
            c4.addProduct(ap[4], bRow); c5.addProduct(ap[5], bRow)
            c6.addProduct(ap[6], bRow); c7.addProduct(ap[7], bRow)
            c8.addProduct(ap[8], bRow); c9.addProduct(ap[9], bRow)
            c10.addProduct(ap[10], bRow); c11.addProduct(ap[11], bRow)
            if H.rows == 14 { c12.addProduct(ap[12], bRow); c13.addProduct(ap[13], bRow) }
            ap += H.rows
            bp += 32
        }
        // Write-back: only the rows and columns that exist in C.
        let vectorStore = cols == 32 && cColumnStride == 1
        @inline(__always) func put(_ acc: Row, _ i: Int) {
            guard i < rows else { return }
            let ci = c + i * ldc
            if vectorStore {
                storeFullRow(acc, ci, alpha: alpha, beta: beta)
            } else {
                storeRowScalar(acc, ci, stride: cColumnStride, cols: cols, alpha: alpha, beta: beta)
            }
        }
        put(c0, 0); put(c1, 1); put(c2, 2); put(c3, 3); put(c4, 4); put(c5, 5)
        put(c6, 6); put(c7, 7); put(c8, 8); put(c9, 9); put(c10, 10); put(c11, 11)
        if H.rows == 14 { put(c12, 12); put(c13, 13) }
    }

    /// C[i, 0..<32] = α · acc + β · C[i, 0..<32] (C not read when β == 0).
    ///
    /// The two products and the sum are rounded separately, exactly like the scalar
    /// `storeRowScalar`, so edge tiles and full tiles give the same bits.
    @inline(__always)
    static func storeFullRow(_ acc: Row, _ ci: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
        let raw = UnsafeMutableRawPointer(ci)
        var lo = alpha * acc.lo, hi = alpha * acc.hi
        if beta != 0 {
            lo = lo + beta * raw.loadUnaligned(as: SIMD16<Float>.self)
            hi = hi + beta * raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        }
        raw.storeBytes(of: lo, as: SIMD16<Float>.self)
        raw.storeBytes(of: hi, toByteOffset: 64, as: SIMD16<Float>.self)
    }

    /// The first `cols` columns of `storeFullRow`, one float at a time, `stride` apart in C
    /// (for edge tiles, and for the transposed C of narrow products).
    @inline(never)
    static func storeRowScalar(_ acc: Row, _ ci: UnsafeMutablePointer<Float>, stride: Int, cols: Int,
                               alpha: Float, beta: Float) {
        for j in 0..<cols {
            let v = j < 16 ? acc.lo[j] : acc.hi[j - 16]
            let cij = ci + j * stride
            cij.pointee = beta == 0 ? alpha * v : alpha * v + beta * cij.pointee
        }
    }
}
