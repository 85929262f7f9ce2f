/// Convolution as a matrix product whose operands are packed straight from the images
/// ("implicit GEMM"): the forward pass here, the weight gradient in ConvWeightGradient.swift.
///
/// The textbook route writes the whole im2col matrix of a chunk (C·k² rows × S·Ho·Wo columns,
/// about 2 MB), then `gemm` copies it a second time into packed panels and packs the weights
/// again for every chunk. At the U-Net's 7 × 7 resolution the products are short (112 rows),
/// so those copies cost about a third of the time. The products here skip them and feed the
/// same micro-kernel (GEMMMicroKernel.swift) with the same K blocks as `gemm`, so every output
/// element is the same sum in the same order as `gemm(W, im2col(x))`.
///
/// **Forward** (and the input gradient, which for stride 1 is a forward convolution):
///
///     Y = W · im2col(x)          W [O, C·k²] packed once per call (`PackedWeights`);
///                                im2col(x) packed K block by K block, straight into the
///                                32-wide panels the micro-kernel reads: by shifted loads
///                                and masks for "same" convolutions (ShiftedIm2Col.swift),
///                                row by row through a small buffer otherwise (`packImageRows`).
///
/// The output columns (s, oh, ow) of the whole batch are cut into chunks of whole panels, so
/// only the very last panel of the batch is padded, and the threads get equal runs of chunks.
struct PackedWeights {
    let kcMax: Int, rowsPadded: Int
    /// The tile height the panels are packed for (`GEMMMicroKernel.rows(for:)`).
    let mr: Int
    let base: UnsafeMutablePointer<Float>

    /// Packs w [rows, depth] (row-major, row stride `depth`) as every K block's A micro-panels.
    init(_ w: UnsafePointer<Float>, rows: Int, depth: Int) {
        let mr = GEMMMicroKernel.rows(for: rows)
        self.mr = mr
        kcMax = GEMMBlocking.blockSize(total: depth, maxBlock: GEMMBlocking.kc, unit: 1)
        rowsPadded = (rows + mr - 1) / mr * mr
        base = allocateFloats(rowsPadded * depth)
        for pc in stride(from: 0, to: depth, by: kcMax) {
            GEMMPack.packA(mr: mr, transA: false, a: w, lda: depth, i0: 0, p0: pc, mc: rows,
                           kc: min(kcMax, depth - pc), into: base + pc * rowsPadded)
        }
    }

    func deallocate() { base.deallocate() }

    /// The kc × mr micro-panel of rows `ir ..< ir + mr` in the K block that starts at `pc`.
    @inline(__always) func panel(pc: Int, kc: Int, row ir: Int) -> UnsafePointer<Float> {
        UnsafePointer(base + pc * rowsPadded + ir * kc)
    }
}

enum ConvPacked {
    /// Columns of im2col (output pixels of all samples, side by side) per chunk: the packed K
    /// block (≤ 256 × 448 floats, 450 KB) and the chunk's output stay in the 1 MB L2.
    static let chunkPanels = 14

    /// y = conv2d(x, w) + b for the whole batch: x [B, C, H, W], w [O, C/G, kH, kW], y [B, O, Ho, Wo].
    ///
    /// The output columns (s, oh, ow) of the whole batch are cut into chunks of whole 32-column
    /// panels, so only the very last panel is padded whatever the image size; a chunk may start
    /// or end inside a sample. The threads get equal runs of chunks. Every output column is one
    /// sum over the patch in K blocks, so the bits depend neither on the chunks nor on the threads.
    static func forward(_ s: Conv2DShape, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let g = s.geometry, og = s.outPerGroup, nr = GEMMMicroKernel.nr
        let total = s.batch * g.outPlane, panels = (total + nr - 1) / nr
        let threads = panels >= 2 * Parallel.threadCount ? Parallel.threadCount : 1
        let perThread = (panels + threads - 1) / threads
        let chunks = threads * ((perThread + chunkPanels - 1) / chunkPanels)
        let weights = (0..<s.groups).map { PackedWeights(w + $0 * og * g.patch, rows: og, depth: g.patch) }
        let shifted = ShiftedIm2Col(g)
        defer { for pw in weights { pw.deallocate() } }
        // Scratch for the largest chunk: its panels, and the samples it touches (whole planes).
        let maxColumns = ((panels + chunks - 1) / chunks) * nr
        let maxSamples = min(s.batch, (maxColumns + g.outPlane - 2) / g.outPlane + 1)
        let kc = GEMMBlocking.blockSize(total: g.patch, maxBlock: GEMMBlocking.kc, unit: 1)
        let rowFloats = maxSamples * g.outPlane + 2 * nr + 16
        Parallel.forRanges(chunks, grain: chunks / threads) { range in
            let row = allocateFloats(shifted?.scratch(padded: maxColumns) ?? rowBatch * rowFloats)
            let packed = allocateFloats(kc * maxColumns)
            let yc = allocateFloats(og * maxColumns)
            defer { row.deallocate(); packed.deallocate(); yc.deallocate() }
            for chunk in range {
                let columns = min(total, panels * chunk / chunks * nr) ..< min(total, panels * (chunk + 1) / chunks * nr)
                if columns.isEmpty { continue }
                forwardChunk(s, columns: columns, x: x, weights: weights, bias: bias, y: y, shifted: shifted,
                             row: row, rowFloats: rowFloats, packed: packed, yc: yc)
            }
        }
    }

    /// Output columns `columns` (flattened (s, oh, ow) over the batch) of every group, on the
    /// calling thread. `weights[g]` holds group g's packed [O/G, C/G·k²] weights.
    static func forwardChunk(_ s: Conv2DShape, columns: Range<Int>, x: UnsafePointer<Float>, weights: [PackedWeights],
                             bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, shifted: ShiftedIm2Col?,
                             row: UnsafeMutablePointer<Float>, rowFloats: Int, packed: UnsafeMutablePointer<Float>,
                             yc: UnsafeMutablePointer<Float>) {
        let g = s.geometry, plane = g.outPlane, og = s.outPerGroup
        let nr = GEMMMicroKernel.nr
        let width = columns.count, padded = (width + nr - 1) / nr * nr
        shifted?.stageMasks(columns: columns, padded: padded, scratch: row)
        for gi in 0..<s.groups {
            let w = weights[gi], xg = x + gi * g.channels * g.inPlane
            shifted?.stage(x: xg, sampleStride: s.inSample, batch: s.batch, columns: columns, padded: padded, scratch: row)
            for pc in stride(from: 0, to: g.patch, by: w.kcMax) {
                let kc = min(w.kcMax, g.patch - pc)
                if let shifted {
                    shifted.pack(rows: pc ..< pc + kc, padded: padded, scratch: row, into: packed)
                } else {
                    packImageRows(g, x: xg, sampleStride: s.inSample, columns: columns, rows: pc ..< pc + kc,
                                  row: row, rowFloats: rowFloats, into: packed)
                }

                // Y[:, chunk] (+)= W[:, pc ..< pc + kc] · cols[pc ..< pc + kc, chunk], tile by tile.
                let beta: Float = pc == 0 ? 0 : 1
                for jr in stride(from: 0, to: width, by: nr) {
                    GEMMMicroKernel.panel(mr: w.mr, kc: kc, a: w.panel(pc: pc, kc: kc, row: 0),
                                          b: UnsafePointer(packed + jr * kc),   // kc × 32, from L1
                                          c: yc + jr, ldc: width, cColumnStride: 1,
                                          rows: og, cols: min(nr, width - jr), alpha: 1, beta: beta)
                }
            }
            // y[s, gi·O/G + o, q] = Y[o, j] + b, j = s·plane + q − columns.lowerBound.
            for o in 0..<og {
                let b = bias?[gi * og + o] ?? 0, src = yc + o * width - columns.lowerBound
                var j = columns.lowerBound
                while j < columns.upperBound {
                    let sample = j / plane, end = min(columns.upperBound, (sample + 1) * plane)
                    let dst = y + sample * s.outSample + (gi * og + o) * plane - sample * plane
                    for t in j..<end { dst[t] = src[t] + b }
                    j = end
                }
            }
        }
    }

    /// Rows of im2col built per batch in `row` before they are copied into the panels.
    static let rowBatch = 8

    /// Rows `rows` of im2col(x), columns `columns` (flattened (s, oh, ow)), packed as
    /// ⌈columns.count / 32⌉ panels of rows.count × 32 floats (the layout of `GEMMPack.packB`,
    /// zeros past the last column), for any geometry (`ShiftedIm2Col` is the fast path for
    /// stride-1 "same" convolutions). `x` points at the group's first channel of sample 0.
    ///
    /// The rows are built `rowBatch` at a time in `row` (whole planes of every sample the
    /// columns touch; each row `rowFloats` long), then copied into the panels 32 floats at a time.
    static func packImageRows(_ g: ConvGeometry, x: UnsafePointer<Float>, sampleStride: Int, columns: Range<Int>,
                              rows: Range<Int>, row: UnsafeMutablePointer<Float>, rowFloats: Int,
                              into packed: UnsafeMutablePointer<Float>) {
        let nr = GEMMMicroKernel.nr, plane = g.outPlane, kc = rows.count
        let first = columns.lowerBound / plane, last = (columns.upperBound - 1) / plane
        let offset = columns.lowerBound - first * plane                    // chunk column 0 in `row`
        let width = columns.count, padded = (width + nr - 1) / nr * nr
        let built = (last + 1 - first) * plane                              // floats written per row
        for r0 in stride(from: 0, to: kc, by: rowBatch) {
            let r1 = min(kc, r0 + rowBatch)
            for r in r0..<r1 {
                let buffer = row + (r - r0) * rowFloats
                for s in first...last {
                    Im2Col.im2colRow(g, row: rows.lowerBound + r, sample: x + s * sampleStride,
                                     dst: buffer + (s - first) * plane)
                }
                if offset + padded > built { (buffer + built).update(repeating: 0, count: offset + padded - built) }
            }
            for r in r0..<r1 {
                var src = UnsafeRawPointer(row + (r - r0) * rowFloats + offset)
                var dst = UnsafeMutableRawPointer(packed + r * nr)
                for _ in 0 ..< padded / nr {
                    dst.storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                    dst.storeBytes(of: src.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self),
                                   toByteOffset: 64, as: SIMD16<Float>.self)
                    src += nr * 4
                    dst += kc * nr * 4
                }
            }
        }
    }
}
