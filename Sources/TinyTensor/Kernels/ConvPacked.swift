/// Convolution products whose operands are packed straight from the images ("implicit GEMM").
///
/// The plain route of ConvGEMM.swift writes the whole im2col matrix of a chunk (C·k² rows ×
/// S·Ho·Wo columns, about 2 MB), then `gemm` copies it a second time into packed panels and
/// packs the weights again for every chunk. At the U-Net's 7 × 7 resolution the products are
/// short (112 rows), so those copies cost about a third of the time. The two products here
/// skip them and feed the same micro-kernel (GEMMMicroKernel.swift) with the same K blocks as
/// `gemm`, so every output element is the same sum in the same order: **the bits are those
/// of the plain route.**
///
/// **Forward** (and the input gradient, which for stride 1 is a forward convolution):
///
///     Y = W · im2col(x)          W [O, C·k²] packed once per call (`PackedWeights`)
///                                im2col(x) packed K block by K block (`packImageRows`):
///                                each row is built in a small buffer that stays in L1 and
///                                copied into the 32-wide panels the micro-kernel reads.
///
/// **Weight gradient**, dW = dY · im2col(x)ᵀ, sums over pixels: for each pixel the
/// micro-kernel wants 12 consecutive output channels of dY and 32 consecutive patch entries,
/// both strided in NCHW. In channels-last order they are contiguous, so each chunk is first
/// transposed (dYᵀ [S·Ho·Wo, O], x → [S, H, W, C]) and unrolled into "im2row" with the patch
/// ordered (i, j, c):
///
///     rows[(s, oh, ow), (i, j, c)] = x[s, c, oh·st − p + i, ow·st − p + j]
///     dW' = dYᵀᵀ · rows           [O, k²·C], then permuted back to [O, C, k, k]
///
/// Both operands then pack by plain copies of consecutive floats.
struct PackedWeights {
    let rows: Int, depth: Int, kcMax: Int, rowsPadded: Int
    let base: UnsafeMutablePointer<Float>

    /// Packs w [rows, depth] (row-major, row stride `depth`) as every K block's A micro-panels.
    init(_ w: UnsafePointer<Float>, rows: Int, depth: Int) {
        let mr = GEMMMicroKernel.mr
        self.rows = rows
        self.depth = depth
        kcMax = GEMMBlocking.blockSize(total: depth, maxBlock: GEMMBlocking.kc, unit: 1)
        rowsPadded = (rows + mr - 1) / mr * mr
        base = allocateFloats(rowsPadded * depth)
        for pc in stride(from: 0, to: depth, by: kcMax) {
            GEMMPack.packA(transA: false, a: w, lda: depth, i0: 0, p0: pc, mc: rows,
                           kc: min(kcMax, depth - pc), into: base + pc * rowsPadded)
        }
    }

    func deallocate() { base.deallocate() }

    /// The kc × 12 micro-panel of rows `ir ..< ir + 12` in the K block that starts at `pc`.
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
        let mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
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
                    let bPanel = UnsafePointer(packed + jr * kc)          // kc × 32, from L1
                    for ir in stride(from: 0, to: og, by: mr) {
                        GEMMMicroKernel.run(kc: kc, a: w.panel(pc: pc, kc: kc, row: ir), b: bPanel,
                                            c: yc + ir * width + jr, ldc: width, cColumnStride: 1,
                                            rows: min(mr, og - ir), cols: min(nr, width - jr),
                                            alpha: 1, beta: beta)
                    }
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

    static func weightGradientScratch(_ s: Conv2DShape, samples: Int) -> Int {
        let g = s.geometry, columns = samples * g.outPlane, mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
        let kc = GEMMBlocking.kc, rowsPadded = (s.outPerGroup + mr - 1) / mr * mr
        let sources = kc * g.kernelH * g.kernelW                            // Int32 offsets, one float each
        return samples * g.inPlane * g.channels + columns * s.outPerGroup + kc * rowsPadded + kc * nr + 16 + sources
    }

    /// One run of a 32-column panel of im2row: `count` consecutive channels from `channel` on,
    /// of window position (i, j), landing at column `offset` of the panel.
    struct PanelRun { var offset: Int, tap: Int, channel: Int, count: Int }

    /// The runs of every 32-column panel of im2row's columns (i, j, c) for geometry `g`.
    static func panelRuns(_ g: ConvGeometry) -> [[PanelRun]] {
        let nr = GEMMMicroKernel.nr, cg = g.channels
        return stride(from: 0, to: g.patch, by: nr).map { j0 in
            var runs: [PanelRun] = [], col = j0
            while col < min(g.patch, j0 + nr) {
                let t = col / cg, c = col % cg, count = min(cg - c, j0 + nr - col)
                runs.append(PanelRun(offset: col - j0, tap: t, channel: c, count: count))
                col += count
            }
            return runs
        }
    }

    /// dW' (+)= dY · im2row(x) for one chunk, every group, into `out` [O, k²·C/G] with each
    /// group's patch ordered (i, j, c); `first` overwrites instead of adding. Calling thread only.
    ///
    /// The loops of `gemm` (GEMM.swift) with K = the chunk's pixels, and the same K blocks, so
    /// the bits are those of `gemm(dYᵀᵀ, im2row)`; but the B panels (kc pixels × 32 patch
    /// columns) are copied straight from the channels-last image instead of from a materialised
    /// im2row matrix (which at 7 × 7 is larger than the L2 cache).
    static func weightGradientChunk(_ s: Conv2DShape, samples: Range<Int>, x: UnsafePointer<Float>,
                                    dy: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, first: Bool,
                                    runs: [[PanelRun]], scratch: UnsafeMutablePointer<Float>) {
        let g = s.geometry, plane = g.outPlane, og = s.outPerGroup, cg = g.channels
        let mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
        let b0 = samples.lowerBound, n = samples.count, columns = n * plane
        let rowsPadded = (og + mr - 1) / mr * mr
        let xt = scratch                                   // [S, H, W, C/G]
        let dyt = xt + n * g.inPlane * cg                  // [S·Ho·Wo, O/G]
        let aPacked = dyt + columns * og                   // kc × O/G, as micro-panels
        let bPanel = aPacked + GEMMBlocking.kc * rowsPadded // kc × 32
        let sources = UnsafeMutableRawPointer(bPanel + GEMMBlocking.kc * nr + 16)
            .bindMemory(to: Int32.self, capacity: GEMMBlocking.kc * g.kernelH * g.kernelW)
        let kcMax = GEMMBlocking.blockSize(total: columns, maxBlock: GEMMBlocking.kc, unit: 1)
        for gi in 0..<s.groups {
            for si in 0..<n {
                transpose(x + (b0 + si) * s.inSample + gi * cg * g.inPlane, rows: cg, cols: g.inPlane,
                          into: xt + si * g.inPlane * cg)
                transpose(dy + (b0 + si) * s.outSample + gi * og * plane, rows: og, cols: plane,
                          into: dyt + si * plane * og)
            }
            let c = out + gi * og * g.patch
            for pc in stride(from: 0, to: columns, by: kcMax) {
                let kc = min(kcMax, columns - pc)
                // A = dYᵀ stored [K, M]: its packing copies 14 consecutive channels per pixel.
                GEMMPack.packA(transA: true, a: dyt, lda: og, i0: 0, p0: pc, mc: og, kc: kc, into: aPacked)
                let beta: Float = first && pc == 0 ? 0 : 1
                pixelSources(g, pixels: pc ..< pc + kc, into: sources)
                for (panel, panelRuns) in runs.enumerated() {
                    let jr = panel * nr
                    packRowPanel(g, xt: xt, pixels: kc, sources: sources, runs: panelRuns, into: bPanel)
                    for ir in stride(from: 0, to: og, by: mr) {
                        GEMMMicroKernel.run(kc: kc, a: aPacked + ir * kc, b: bPanel, c: c + ir * g.patch + jr,
                                            ldc: g.patch, cColumnStride: 1, rows: min(mr, og - ir),
                                            cols: min(nr, g.patch - jr), alpha: 1, beta: beta)
                    }
                }
            }
        }
    }

    /// sources[(k − pixels.lowerBound)·k² + t] = where pixel k's window position t = (i, j) reads
    /// in the channels-last image (the offset of channel 0), or −1 in the padding. Made once per
    /// K block and shared by its panels, so the panels need no division per pixel.
    static func pixelSources(_ g: ConvGeometry, pixels: Range<Int>, into sources: UnsafeMutablePointer<Int32>) {
        let plane = g.outPlane, kk = g.kernelH * g.kernelW
        var s = pixels.lowerBound / plane, q = pixels.lowerBound % plane
        var oh = q / g.outW, ow = q % g.outW
        var out = sources
        for _ in pixels {
            for t in 0..<kk {
                let ih = oh * g.stride - g.padding + t / g.kernelW, iw = ow * g.stride - g.padding + t % g.kernelW
                out[t] = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                    ? Int32(((s * g.height + ih) * g.width + iw) * g.channels) : -1
            }
            out += kk
            ow += 1
            if ow == g.outW { ow = 0; oh += 1 }
            if oh == g.outH { oh = 0; s += 1 }
            q += 1
        }
    }

    /// B̃[k, 0..<32] = im2row[pixel k, panel columns] for `pixels` pixels of the chunk, from the
    /// channels-last image `xt`: per pixel, each run is a copy of consecutive channels (or zeros
    /// in the padding); columns past the runs are zero. `sources` from `pixelSources`.
    @inline(__always)
    static func packRowPanel(_ g: ConvGeometry, xt: UnsafePointer<Float>, pixels: Int, sources: UnsafePointer<Int32>,
                             runs: [PanelRun], into panel: UnsafeMutablePointer<Float>) {
        let nr = GEMMMicroKernel.nr, kk = g.kernelH * g.kernelW
        let used = runs.last.map { $0.offset + $0.count } ?? 0
        runs.withUnsafeBufferPointer { runs in
            var dst = panel, source = sources
            for _ in 0..<pixels {
                for run in runs {
                    let from = Int(source[run.tap])
                    if from >= 0 {
                        copyFloats(xt + from + run.channel, to: dst + run.offset, count: run.count)
                    } else {
                        zeroFloats(dst + run.offset, count: run.count)
                    }
                }
                if used < nr { zeroFloats(dst + used, count: nr - used) }
                dst += nr
                source += kk
            }
        }
    }

    /// Copies `count` ≤ 32 floats with vector moves (a library memcpy call costs more than the
    /// copy at these sizes).
    @inline(__always)
    static func copyFloats(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        var t = 0
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        while t + 16 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: t * 4, as: SIMD16<Float>.self), toByteOffset: t * 4,
                          as: SIMD16<Float>.self)
            t += 16
        }
        if t + 8 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: t * 4, as: SIMD8<Float>.self), toByteOffset: t * 4,
                          as: SIMD8<Float>.self)
            t += 8
        }
        if t + 4 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: t * 4, as: SIMD4<Float>.self), toByteOffset: t * 4,
                          as: SIMD4<Float>.self)
            t += 4
        }
        while t < count { dst[t] = src[t]; t += 1 }
    }

    /// Writes `count` ≤ 32 zeros with vector stores.
    @inline(__always)
    static func zeroFloats(_ dst: UnsafeMutablePointer<Float>, count: Int) {
        var t = 0
        let to = UnsafeMutableRawPointer(dst)
        while t + 16 <= count { to.storeBytes(of: SIMD16<Float>(), toByteOffset: t * 4, as: SIMD16<Float>.self); t += 16 }
        if t + 8 <= count { to.storeBytes(of: SIMD8<Float>(), toByteOffset: t * 4, as: SIMD8<Float>.self); t += 8 }
        if t + 4 <= count { to.storeBytes(of: SIMD4<Float>(), toByteOffset: t * 4, as: SIMD4<Float>.self); t += 4 }
        while t < count { dst[t] = 0; t += 1 }
    }

    /// dst[q, r] = src[r, q] for src [rows, cols], in 8 × 8 blocks so that reads and writes
    /// both stay within a few cache lines.
    static func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
        let block = 8
        for r0 in stride(from: 0, to: rows, by: block) {
            let r1 = min(rows, r0 + block)
            for q0 in stride(from: 0, to: cols, by: block) {
                let q1 = min(cols, q0 + block)
                for q in q0..<q1 {
                    for r in r0..<r1 { dst[q * rows + r] = src[r * cols + q] }
                }
            }
        }
    }

    /// dw[o, c, i, j] = dw'[o, (i, j, c)] for every group (the inverse of the im2row order).
    static func unpermute(_ permuted: UnsafePointer<Float>, _ s: Conv2DShape, into dw: UnsafeMutablePointer<Float>) {
        let g = s.geometry, cg = g.channels, kk = g.kernelH * g.kernelW
        for o in 0..<s.outChannels {
            let src = permuted + o * g.patch, dst = dw + o * g.patch
            for t in 0..<kk {
                for c in 0..<cg { dst[c * kk + t] = src[t * cg + c] }
            }
        }
    }
}
