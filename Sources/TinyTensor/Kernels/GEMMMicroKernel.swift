/// The innermost piece of the fast matrix product: a tile of C held in registers, sized to
/// the register file of the machine the library is built for.
///
/// The micro-kernel computes one tile
///
///     C[i, j] = α · Σ_p Ã[i, p] · B̃[p, j] + β · C[i, j]      (0 ≤ i < mr, 0 ≤ j < 32, 0 ≤ p < kc)
///
/// where Ã is a packed *micro-panel* of A (kc columns of mr values, see GEMMPack.swift) and
/// B̃ a packed micro-panel of B (kc rows of 32 values). For each p it loads a row of B̃,
/// broadcasts each of Ã's mr values of column p, and does one fused multiply-add per
/// accumulator. The accumulators must all stay in registers, so the tile depends on the
/// register file (`Tile`, chosen when the library is compiled, see Package.swift):
///
/// - **AVX-512** (32 `zmm` registers of 16 floats): a 14 × 32 or 12 × 32 tile, two
///   `SIMD16<Float>` per row, 28 (24) accumulators + 2 for B̃ + 1–2 broadcasts (checked in the
///   disassembly: no spills). The height is chosen per product by `rows(for:)`: whichever pads
///   M less. The U-Net's channel counts are multiples of 28 (28, 56, 112, 168), which 14 rows
///   fill exactly where 12 would waste 7–22 % (112 = 9·12 + 4); the MLP's batch of 32 rows
///   fits 12 better (36 rows against 42).
/// - **AVX2** (16 `ymm` registers of 8 floats) and **NEON** (32 `q` registers of 4 floats): a
///   6 × 16 tile, one `SIMD16<Float>` per row, run twice per 32-wide panel (columns 0..<16,
///   then 16..<32, reading B̃'s rows 32 floats apart). A `SIMD16<Float>` is two `ymm` (AVX2)
///   or four `q` registers (NEON): 12 (24) accumulators + 2 (4) for B̃ + a broadcast. The
///   14 × 32 tile would need 56 `ymm` accumulators on AVX2 and spill on every step (it ran
///   at 0.4 × numpy's speed on a Zen 3). The packed panels stay 32 wide, so the packing and
///   the convolution kernels that write panels directly are the same for every tile.
///
/// Every tile gives the same bits: each element of C sums its products in the order
/// p = 0, 1, ..., kc − 1, one fused multiply-add per step, and is written back as
/// α · acc + β · C with the same roundings, whatever the tile, its height, where it sits in
/// C, or which thread computes it. So the AVX2 and AVX-512 builds agree to the bit.
///
/// Why the fused multiply-add (`addProduct`) and not `acc + a * b`: Swift does not fuse
/// `a * b + c` on its own, so writing the product out would cost two instructions and two
/// roundings. `SIMD16.addProduct` becomes one `vfmadd231ps` per 16 (AVX2: 8) lanes, or an
/// `fmla` per 4 lanes on NEON. No intrinsics are used: the same source compiles everywhere.
public enum GEMMMicroKernel {
    /// The register tiles: `wide` for 32 vector registers of 16 floats, `narrow` for the
    /// 16 × 256-bit registers of AVX2 and the 32 × 128-bit ones of NEON.
    enum Tile {
        /// 14 × 32 or 12 × 32, two `SIMD16<Float>` per row (28 or 24 zmm accumulators).
        case wide
        /// 6 × 16, one `SIMD16<Float>` per row, twice per 32-wide panel.
        case narrow
    }

    /// The tile this build uses: `TINYTENSOR_AVX512` is defined by Package.swift when the
    /// target has AVX-512 (`-march=native` on such a machine, or e.g. `x86-64-v4`).
    #if TINYTENSOR_AVX512
    static var tile: Tile { .wide }
    #else
    static var tile: Tile { .narrow }
    #endif

    /// Which register tile this build runs, e.g. for the benchmarks' header.
    public static var name: String {
        switch tile {
        case .wide: return "14×32 / 12×32 tile of SIMD16<Float> (AVX-512: 28 / 24 zmm accumulators)"
        case .narrow:
            #if arch(arm64)
            return "6×16 tile of SIMD16<Float>, twice per 32-wide panel (NEON: 24 q accumulators)"
            #else
            return "6×16 tile of SIMD16<Float>, twice per 32-wide panel (AVX2: 12 ymm accumulators)"
            #endif
        }
    }

    /// The largest tile height (for sizing buffers).
    static let maxRows = 14
    /// Columns of a packed B micro-panel, for every tile (the narrow tile covers it in two halves).
    static let nr = 32

    /// The tile height for a product with `m` rows: on the wide tile 14 unless 12 pads M less;
    /// 6 on the narrow one.
    @inline(__always) static func rows(for m: Int) -> Int {
        switch tile {
        case .wide: return (m + 13) / 14 * 14 <= (m + 11) / 12 * 12 ? 14 : 12
        case .narrow: return 6
        }
    }

    /// One row of the wide register tile: 32 floats as two 16-lane vectors.
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

    /// Runs one `mr` × 32 tile over `kc` packed steps and writes `rows` × `cols` of it into C.
    /// `mr` is 14 or 12 (the wide tile) or 6 (the narrow tile, twice); any of them works in
    /// any build (the tests run all three), but only `rows(for:)`'s is fast on this machine.
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
        switch mr {
        case 14:
            run14(kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
                  alpha: alpha, beta: beta)
        case 12:
            run12(kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
                  alpha: alpha, beta: beta)
        default:
            precondition(mr == 6, "GEMMMicroKernel: no tile of height \(mr)")
            run6(kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
                 alpha: alpha, beta: beta)
        }
    }

    /// Every tile of one packed B micro-panel (kc × 32): C[0..<rows, 0..<cols] (+)= Ã·B̃, where
    /// Ã is ⌈rows/mr⌉ A micro-panels of kc × mr floats one after the other (`a + ir * kc`).
    ///
    /// The wide tile covers the panel's 32 columns in one pass per tile row. The narrow tile
    /// runs the left 16 columns for every tile row, then the right 16: its half of B̃ (16 KB at
    /// kc = 256) then stays in a 32 KB L1 while the A micro-panels stream through, where
    /// alternating halves per tile row would need all 32 KB of B̃ plus A's 6 KB. Each element
    /// of C is the same sum either way: only the order of the tiles changes.
    @inline(__always)
    static func panel(mr: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                      c: UnsafeMutablePointer<Float>, ldc: Int, cColumnStride: Int,
                      rows: Int, cols: Int, alpha: Float, beta: Float) {
        switch tile {
        case .wide:
            for ir in stride(from: 0, to: rows, by: mr) {
                run(mr: mr, kc: kc, a: a + ir * kc, b: b, c: c + ir * ldc, ldc: ldc, cColumnStride: cColumnStride,
                    rows: min(mr, rows - ir), cols: cols, alpha: alpha, beta: beta)
            }
        case .narrow:
            precondition(mr == 6, "GEMMMicroKernel: the narrow tile is 6 rows high, not \(mr)")
            narrowPanel(kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows, cols: cols,
                        alpha: alpha, beta: beta)
        }
    }

    /// `panel` with the narrow tile: the left half of B̃ for every tile row, then the right half.
    @inline(never)
    static func narrowPanel(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            ldc: Int, cColumnStride: Int, rows: Int, cols: Int, alpha: Float, beta: Float) {
        for half in stride(from: 0, to: cols, by: 16) {
            for ir in stride(from: 0, to: rows, by: 6) {
                halfTile(kc: kc, a: a + ir * kc, b: b + half, c: c + ir * ldc + half * cColumnStride, ldc: ldc,
                         cColumnStride: cColumnStride, rows: min(6, rows - ir), cols: min(16, cols - half),
                         alpha: alpha, beta: beta)
            }
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

    /// The narrow tile: the left 16 columns of the panel, then the right 16 (if any lie in C).
    @inline(never)
    static func run6(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                     ldc: Int, cColumnStride: Int, rows: Int, cols: Int, alpha: Float, beta: Float) {
        halfTile(kc: kc, a: a, b: b, c: c, ldc: ldc, cColumnStride: cColumnStride, rows: rows,
                 cols: min(cols, 16), alpha: alpha, beta: beta)
        if cols > 16 {
            halfTile(kc: kc, a: a, b: b + 16, c: c + 16 * cColumnStride, ldc: ldc, cColumnStride: cColumnStride,
                     rows: rows, cols: cols - 16, alpha: alpha, beta: beta)
        }
    }

    @inline(__always)
    static func tile<H: TileHeight>(_: H.Type, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
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
            let ci = c + i &* ldc                       // a row of C: i < rows ≤ mr, inside C
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

    /// 6 rows × 16 columns of the narrow tile: one `SIMD16<Float>` accumulator per row, B̃'s
    /// rows read 32 floats apart (`b` points at column 0 or 16 of the 32-wide panel).
    @inline(__always)
    static func halfTile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, cColumnStride: Int,
                         rows: Int, cols: Int, alpha: Float, beta: Float) {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
        var c3 = SIMD16<Float>(), c4 = SIMD16<Float>(), c5 = SIMD16<Float>()
        var ap = a, bp = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let bv = bp.load(as: SIMD16<Float>.self)    // B̃[p, half ..< half + 16], 64-byte aligned
            c0.addProduct(SIMD16(repeating: ap[0]), bv); c1.addProduct(SIMD16(repeating: ap[1]), bv)
            c2.addProduct(SIMD16(repeating: ap[2]), bv); c3.addProduct(SIMD16(repeating: ap[3]), bv)
            c4.addProduct(SIMD16(repeating: ap[4]), bv); c5.addProduct(SIMD16(repeating: ap[5]), bv)
            ap += 6
            bp += 32 * 4
        }
        let vectorStore = cols == 16 && cColumnStride == 1
        @inline(__always) func put(_ acc: SIMD16<Float>, _ i: Int) {
            guard i < rows else { return }
            let ci = c + i &* ldc                       // a row of C: i < rows ≤ 6, inside C
            if vectorStore {
                storeHalfRow(acc, ci, alpha: alpha, beta: beta)
            } else {
                storeRowScalar(Row(lo: acc, hi: SIMD16()), ci, stride: cColumnStride, cols: cols,
                               alpha: alpha, beta: beta)
            }
        }
        put(c0, 0); put(c1, 1); put(c2, 2); put(c3, 3); put(c4, 4); put(c5, 5)
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

    /// C[i, 0..<16] = α · acc + β · C[i, 0..<16]: `storeFullRow` for the narrow tile.
    @inline(__always)
    static func storeHalfRow(_ acc: SIMD16<Float>, _ ci: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
        let raw = UnsafeMutableRawPointer(ci)
        var v = alpha * acc
        if beta != 0 { v = v + beta * raw.loadUnaligned(as: SIMD16<Float>.self) }
        raw.storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// The first `cols` columns of `storeFullRow`, one float at a time, `stride` apart in C
    /// (for edge tiles, and for the transposed C of narrow products).
    @inline(never)
    static func storeRowScalar(_ acc: Row, _ ci: UnsafeMutablePointer<Float>, stride: Int, cols: Int,
                               alpha: Float, beta: Float) {
        var cij = ci
        for j in 0..<cols {
            let v = j < 16 ? acc.lo[j] : acc.hi[j &- 16]   // j < cols ≤ 32
            cij.pointee = beta == 0 ? alpha * v : alpha * v + beta * cij.pointee
            cij += stride
        }
    }
}

/// A number of rows (or taps) known at compile time: the kernels take it as a type, `tile(Rows14.self, …)`,
/// so that each specialised copy has no branch on it and its loops over the rows unroll.
/// Shared by the GEMM micro-kernel (14, 12), DotProductGEMM (1–3) and DepthwiseConv (1, 2, 4).
protocol TileHeight { static var rows: Int { get } }
enum Rows1: TileHeight { static var rows: Int { 1 } }
enum Rows2: TileHeight { static var rows: Int { 2 } }
enum Rows3: TileHeight { static var rows: Int { 3 } }
enum Rows4: TileHeight { static var rows: Int { 4 } }
enum Rows12: TileHeight { static var rows: Int { 12 } }
enum Rows14: TileHeight { static var rows: Int { 14 } }
