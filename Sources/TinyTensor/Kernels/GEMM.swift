/// The fast matrix product C = α·op(A)·op(B) + β·C, row-major, used by every op that
/// multiplies matrices (matmul, linear layers, convolutions through im2col, attention).
///
/// Same contract as `referenceGemm`: op(A) is [M, K] (A is stored [K, M] when `transA`),
/// op(B) is [K, N] (B is stored [N, K] when `transB`), lda/ldb/ldc are row strides.
/// When β == 0, C is not read (it may hold garbage, even NaN). As in BLAS, when α == 0 or
/// K == 0, A and B are not read and C becomes β·C.
///
/// How it is fast (the "GotoBLAS / BLIS" scheme, in three files):
///
/// 1. **Register tile** (GEMMMicroKernel.swift). A tile of C lives in SIMD registers while the
///    kernel streams through K, so each loaded value feeds many fused multiply-adds instead of
///    one: with AVX-512 a 14 × 32 (or 12 × 32) tile in 28 (24) zmm registers; with AVX2 or NEON
///    a 6 × 16 tile (12 ymm / 24 q registers) run twice over each 32-wide panel.
/// 2. **Packing** (GEMMPack.swift). Blocks of A and B are copied into the order the
///    kernel reads them, so its loads are sequential and transposes cost nothing extra.
/// 3. **Cache blocking** (this file). The loops are cut so that each packed piece stays in
///    the cache level where it is reused:
///
///        for jc in 0..<N by NC                 B block  kc × nc   (up to 2 MB, L3)
///          for pc in 0..<K by KC               pack B block
///            for ic in 0..<M by MC             A block  mc × kc   (up to 240 KB, L2), pack it
///              for jr in 0..<nc by 32          B micro-panel  kc × 32 (32 KB, L1)
///                for ir in 0..<mc by mr        A micro-panel  kc × mr, streamed from L2
///                  micro-kernel: C[ic+ir ..< +mr, jc+jr ..< +32] (+)= Ã · B̃
///                  (mr = 14 or 12 with AVX-512, 6 otherwise; the 6-row tile covers the
///                  panel's left 16 columns for every ir, then the right 16, so that its
///                  16 KB half of B̃ stays in a 32 KB L1: `GEMMMicroKernel.panel`)
///
///    The first K block writes α·ÃB̃ + β·C; the later ones add onto it (β = 1).
///
/// Threads: large products split C into one slab of rows (or columns) per thread, and each
/// thread runs the loops above on its slab with its own packed buffers. K is never split,
/// and the K blocks depend only on K, so every element of C is summed in the same order
/// whatever `Parallel.threadCount` is: results are bit-identical for 1 or 2 threads.
/// Small products (the MLP's, about a million multiply-adds or fewer) stay on one thread,
/// where starting a second one would cost more than it saves; `parallel: false` keeps any
/// product on the calling thread (for callers that already run many products in parallel,
/// like the batched matmul of attention). Narrow products (N below 16, much smaller than M)
/// are computed as Cᵀ so that the long side fills the 32-wide tiles.
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
         beta: beta, c: c, ldc: ldc, parallel: true)
}

/// `gemm`, on the calling thread alone when `parallel` is false.
func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
    guard m > 0, n > 0 else { return }
    if k == 0 || alpha == 0 {
        GEMMBlocking.scale(c: c, ldc: ldc, m: m, n: n, beta: beta)
        return
    }
    // Cᵀ is written one float at a time (the rows of a column are scattered over the tile's registers),
    // so it only pays when C is too narrow to fill half of the 32-wide tile.
    let swap = k >= 16 && n < GEMMMicroKernel.nr / 2
        && GEMMBlocking.tiles(m: n, n: m) < GEMMBlocking.tiles(m: m, n: n)
    if swap {
        // Narrow products (N = 2 in the MLP's last layer) would fill 2 of the tile's 32
        // columns. Computing Cᵀ = op(B)ᵀ·op(A)ᵀ instead puts the long side along the 32
        // columns; the kernel then writes C column by column (row stride 1, column stride
        // ldc). Each element is still the same sum in the same order: the same bits.
        GEMMProblem(transA: !transB, transB: !transA, m: n, n: m, k: k, alpha: alpha,
                    a: b, lda: ldb, b: a, ldb: lda, beta: beta, c: c, ldc: 1, cColumnStride: ldc).run(parallel: parallel)
    } else {
        GEMMProblem(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, cColumnStride: 1).run(parallel: parallel)
    }
}

/// Block sizes of the cache blocking, and the size above which `gemm` uses every thread.
enum GEMMBlocking {
    /// Depth of a K block: a B micro-panel (KC × 32 floats = 32 KB) stays in the 48 KB L1.
    static let kc = 256
    /// Rows of an A block: MC × KC floats (up to 240 KB) stay in the 1 MB L2.
    static let mc = 240
    /// `mc` rounded down to a multiple of the tile height.
    static func mc(mr: Int) -> Int { mc / mr * mr }
    /// Columns of a B block: KC × NC floats (2 MB) stay in the shared L3. A multiple of 32.
    static let nc = 2048
    /// Products with at least this many multiply-adds (M·N·K) run on all threads.
    static let parallelThreshold = 1 << 20

    /// Cuts `0..<total` into the fewest blocks of at most `maxBlock`, all the same size
    /// (rounded up to a multiple of `unit`) except the last: 300 with 256 gives 152 + 148,
    /// not 256 + 44, so no block is left too thin to be efficient.
    static func blockSize(total: Int, maxBlock: Int, unit: Int) -> Int {
        let blocks = (total + maxBlock - 1) / maxBlock
        let even = (total + blocks - 1) / blocks
        return min(maxBlock, (even + unit - 1) / unit * unit)
    }

    /// Micro-tiles needed to cover an m × n C.
    static func tiles(m: Int, n: Int) -> Int {
        let mr = GEMMMicroKernel.rows(for: m)
        return (m + mr - 1) / mr * ((n + GEMMMicroKernel.nr - 1) / GEMMMicroKernel.nr)
    }

    /// C = β·C for the α == 0 or K == 0 cases (zeros when β == 0, without reading C).
    static func scale(c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, beta: Float) {
        if beta == 1 { return }
        for i in 0..<m {
            let ci = c + i * ldc
            if beta == 0 { ci.update(repeating: 0, count: n) } else { for j in 0..<n { ci[j] *= beta } }
        }
    }
}

/// The operands of one `gemm` call, and the blocked loops over one slab of C.
struct GEMMProblem {
    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int
    let alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let beta: Float
    /// C[i, j] is at c[i * ldc + j * cColumnStride]; the column stride is 1 except for Cᵀ.
    let c: UnsafeMutablePointer<Float>, ldc: Int, cColumnStride: Int

    /// Computes all of C, on every thread when the product is large (and `parallel`).
    /// The tile height: 14 or 12 rows (whichever pads M less) with AVX-512, else 6.
    var mr: Int { GEMMMicroKernel.rows(for: m) }

    func run(parallel: Bool = true) {
        let mr = mr, nr = GEMMMicroKernel.nr
        let rowTiles = (m + mr - 1) / mr, colTiles = (n + nr - 1) / nr
        let threads = parallel && m * n * k >= GEMMBlocking.parallelThreshold ? Parallel.threadCount : 1
        if threads == 1 || max(rowTiles, colTiles) < 2 {
            compute(rows: 0..<m, cols: 0..<n)
        } else if (m >= n && rowTiles >= threads) || colTiles < threads {
            // One slab of whole micro-tile rows per thread; each packs all of B for itself.
            Parallel.forRanges(rowTiles) { tiles in
                compute(rows: tiles.lowerBound * mr ..< min(m, tiles.upperBound * mr), cols: 0..<n)
            }
        } else {
            // One slab of whole micro-tile columns per thread; each packs all of A for itself.
            Parallel.forRanges(colTiles) { tiles in
                compute(rows: 0..<m, cols: tiles.lowerBound * nr ..< min(n, tiles.upperBound * nr))
            }
        }
    }

    /// C[rows, cols] = α·op(A)[rows, :]·op(B)[:, cols] + β·C[rows, cols] on the calling thread.
    func compute(rows: Range<Int>, cols: Range<Int>) {
        let mr = mr, nr = GEMMMicroKernel.nr
        // K blocks depend only on K: the summation order of each element is fixed.
        let kcMax = GEMMBlocking.blockSize(total: k, maxBlock: GEMMBlocking.kc, unit: 1)
        let mcMax = GEMMBlocking.blockSize(total: rows.count, maxBlock: GEMMBlocking.mc(mr: mr), unit: mr)
        let ncMax = GEMMBlocking.blockSize(total: cols.count, maxBlock: GEMMBlocking.nc, unit: nr)
        // Packed buffers, padded to whole micro-panels and 64-byte aligned for SIMD loads.
        let aCount = (mcMax + mr - 1) / mr * mr * kcMax
        let bCount = (ncMax + nr - 1) / nr * nr * kcMax
        let aRaw = UnsafeMutableRawPointer.allocate(byteCount: aCount * 4, alignment: 64)
        let bRaw = UnsafeMutableRawPointer.allocate(byteCount: bCount * 4, alignment: 64)
        defer { aRaw.deallocate(); bRaw.deallocate() }
        let aPacked = aRaw.bindMemory(to: Float.self, capacity: aCount)
        let bPacked = bRaw.bindMemory(to: Float.self, capacity: bCount)

        for jc in stride(from: cols.lowerBound, to: cols.upperBound, by: ncMax) {
            let nc = min(ncMax, cols.upperBound - jc)
            for pc in stride(from: 0, to: k, by: kcMax) {
                let kc = min(kcMax, k - pc)
                GEMMPack.packB(transB: transB, b: b, ldb: ldb, p0: pc, j0: jc, kc: kc, nc: nc, into: bPacked)
                // The first K block applies β; the later ones accumulate onto C.
                let betaHere: Float = pc == 0 ? beta : 1
                for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: mcMax) {
                    let mc = min(mcMax, rows.upperBound - ic)
                    GEMMPack.packA(mr: mr, transA: transA, a: a, lda: lda, i0: ic, p0: pc, mc: mc, kc: kc, into: aPacked)
                    // Macro-kernel: every mr × 32 tile of this mc × nc block of C.
                    for jr in stride(from: 0, to: nc, by: nr) {
                        GEMMMicroKernel.panel(mr: mr, kc: kc, a: aPacked, b: bPacked + jr * kc,
                                              c: c + ic * ldc + (jc + jr) * cColumnStride,
                                              ldc: ldc, cColumnStride: cColumnStride,
                                              rows: mc, cols: min(nr, nc - jr), alpha: alpha, beta: betaHere)
                    }
                }
            }
        }
    }
}
