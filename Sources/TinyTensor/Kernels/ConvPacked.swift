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

/// im2col rows of a stride-1 "same" convolution (output size = input size, p < k) by vector
/// loads and masks.
///
/// There, row (c, i, j) of im2col is the channel plane shifted by (i − p)·W + (j − p), with
/// zeros wherever the window leaves the image:
///
///     row[q] = valid_ij[q] ? plane[q + (i − p)·W + (j − p)] : 0        q = oh·W + ow
///
/// So each row is ⌈HW/16⌉ unaligned 16-float loads, a bitwise AND with the mask of (i, j) (made
/// once per call) and 16-float stores. The loads reach up to (p + 1)·W floats outside the plane
/// (into neighbouring planes, whose values the mask discards); rows whose loads would leave
/// the input tensor altogether fall back to `Im2Col.im2colRow`. The last store spills up to
/// 15 zeros past the plane, so the destination needs 16 floats of slack.
struct ShiftMasks {
    let g: ConvGeometry, blocks: Int
    let masks: UnsafeMutablePointer<SIMD16<UInt32>>        // [k·k, blocks], all ones = inside the image

    /// nil unless `g` is a stride-1 convolution with output size equal to input size.
    init?(_ g: ConvGeometry) {
        guard g.stride == 1, g.outH == g.height, g.outW == g.width, g.padding < g.kernelH, g.padding < g.kernelW else {
            return nil
        }
        self.g = g
        blocks = (g.inPlane + 15) / 16
        let kk = g.kernelH * g.kernelW
        masks = UnsafeMutablePointer<SIMD16<UInt32>>.allocate(capacity: kk * blocks)
        for t in 0..<kk {
            let i = t / g.kernelW, j = t % g.kernelW
            for b in 0..<blocks {
                var m = SIMD16<UInt32>(repeating: 0)
                for lane in 0..<16 {
                    let q = b * 16 + lane, oh = q / g.width, ow = q % g.width
                    let ih = oh + i - g.padding, iw = ow + j - g.padding
                    if q < g.inPlane && ih >= 0 && ih < g.height && iw >= 0 && iw < g.width { m[lane] = ~0 }
                }
                masks[t * blocks + b] = m
            }
        }
    }

    func deallocate() { masks.deallocate() }

    /// Writes values `blocks.lowerBound · 16 ..< blocks.upperBound · 16` (clipped to the plane;
    /// the rest of the last block is zero) of im2col row `row` of one sample (`sample` points
    /// at its channel 0) to the same places in `dst`, unless a load would leave `image`;
    /// returns whether it did.
    @inline(__always)
    func row(_ row: Int, sample: UnsafePointer<Float>, image: Range<UnsafePointer<Float>>, blocks: Range<Int>,
             into dst: UnsafeMutablePointer<Float>) -> Bool {
        let kk = g.kernelH * g.kernelW, t = row % kk
        let i = t / g.kernelW, j = t % g.kernelW
        let src = sample + (row / kk) * g.inPlane + (i - g.padding) * g.width + (j - g.padding)
        guard src + blocks.lowerBound * 16 >= image.lowerBound, src + blocks.upperBound * 16 <= image.upperBound else {
            return false
        }
        let m = masks + t * self.blocks
        var from = UnsafeRawPointer(src + blocks.lowerBound * 16), to = UnsafeMutableRawPointer(dst + blocks.lowerBound * 16)
        for b in blocks {
            // The float's bits AND the mask: itself inside the image, +0.0 outside.
            let v = from.loadUnaligned(as: SIMD16<UInt32>.self)
            to.storeBytes(of: v & m[b], as: SIMD16<UInt32>.self)
            from += 64
            to += 64
        }
        return true
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
        let masks = ShiftMasks(g)
        defer { for pw in weights { pw.deallocate() }; masks?.deallocate() }
        // Scratch for the largest chunk: its panels, and the samples it touches (whole planes).
        let maxColumns = ((panels + chunks - 1) / chunks) * nr
        let maxSamples = min(s.batch, (maxColumns + g.outPlane - 2) / g.outPlane + 1)
        let kc = GEMMBlocking.blockSize(total: g.patch, maxBlock: GEMMBlocking.kc, unit: 1)
        let rowFloats = maxSamples * g.outPlane + 2 * nr + 16
        Parallel.forRanges(chunks, grain: chunks / threads) { range in
            let row = allocateFloats(rowBatch * rowFloats), packed = allocateFloats(kc * maxColumns)
            let yc = allocateFloats(og * maxColumns)
            defer { row.deallocate(); packed.deallocate(); yc.deallocate() }
            for chunk in range {
                let columns = min(total, panels * chunk / chunks * nr) ..< min(total, panels * (chunk + 1) / chunks * nr)
                if columns.isEmpty { continue }
                forwardChunk(s, columns: columns, x: x, weights: weights, bias: bias, y: y, masks: masks,
                             row: row, rowFloats: rowFloats, packed: packed, yc: yc)
            }
        }
    }

    /// Output columns `columns` (flattened (s, oh, ow) over the batch) of every group, on the
    /// calling thread. `weights[g]` holds group g's packed [O/G, C/G·k²] weights.
    static func forwardChunk(_ s: Conv2DShape, columns: Range<Int>, x: UnsafePointer<Float>, weights: [PackedWeights],
                             bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, masks: ShiftMasks?,
                             row: UnsafeMutablePointer<Float>, rowFloats: Int, packed: UnsafeMutablePointer<Float>,
                             yc: UnsafeMutablePointer<Float>) {
        let g = s.geometry, plane = g.outPlane, og = s.outPerGroup
        let mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
        let width = columns.count
        let image = x ..< x + s.batch * s.inSample
        for gi in 0..<s.groups {
            let w = weights[gi]
            for pc in stride(from: 0, to: g.patch, by: w.kcMax) {
                let kc = min(w.kcMax, g.patch - pc)
                packImageRows(g, x: x + gi * g.channels * g.inPlane, sampleStride: s.inSample, columns: columns,
                              rows: pc ..< pc + kc, masks: masks, image: image, row: row, rowFloats: rowFloats,
                              into: packed)
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
    /// zeros past the last column). `x` points at the group's first channel of sample 0.
    ///
    /// The rows are built `rowBatch` at a time in `row` (whole planes of every sample the
    /// columns touch; each row `rowFloats` long, the batch stays in L1), then copied into the
    /// panels 32 floats at a time. (Copying each row right after building it would load
    /// across the stores that just wrote it.) `image` bounds the whole input tensor (see
    /// `ShiftMasks`).
    static func packImageRows(_ g: ConvGeometry, x: UnsafePointer<Float>, sampleStride: Int, columns: Range<Int>,
                              rows: Range<Int>, masks: ShiftMasks?, image: Range<UnsafePointer<Float>>,
                              row: UnsafeMutablePointer<Float>, rowFloats: Int, into packed: UnsafeMutablePointer<Float>) {
        let nr = GEMMMicroKernel.nr, plane = g.outPlane, kc = rows.count
        let first = columns.lowerBound / plane, last = (columns.upperBound - 1) / plane
        let offset = columns.lowerBound - first * plane                    // chunk column 0 in `row`
        let width = columns.count, padded = (width + nr - 1) / nr * nr
        let built = (last + 1 - first) * plane                              // floats written per row
        // Touch the block's channels of every sample once, in memory order, so that the
        // hardware prefetcher streams them into the cache before the shifted loads below (which
        // visit the samples one plane at a time, far apart) need them.
        let kk = g.kernelH * g.kernelW
        let c0 = rows.lowerBound / kk, c1 = (rows.upperBound - 1) / kk + 1
        var touched: Float = 0
        for s in first...last {
            let base = x + s * sampleStride + c0 * g.inPlane
            for q in stride(from: 0, to: (c1 - c0) * g.inPlane, by: 16) { touched += base[q] }
        }
        row[rowBatch * rowFloats - 1] = touched                              // keeps the loop alive
        for r0 in stride(from: 0, to: kc, by: rowBatch) {
            let r1 = min(kc, r0 + rowBatch)
            for r in r0..<r1 {
                let buffer = row + (r - r0) * rowFloats
                for s in first...last {
                    let sample = x + s * sampleStride, dst = buffer + (s - first) * plane
                    // Only the 16-float blocks of the plane that the chunk's columns cover.
                    let lo = s == first ? offset : 0
                    let hi = s == last ? columns.upperBound - last * plane : plane
                    if let masks, masks.row(rows.lowerBound + r, sample: sample, image: image,
                                            blocks: lo / 16 ..< (hi + 15) / 16, into: dst) { continue }
                    Im2Col.im2colRow(g, row: rows.lowerBound + r, sample: sample, dst: dst)
                }
                let end = offset + padded
                if end > built { (buffer + built).update(repeating: 0, count: end - built) }
                if offset + width < built && padded > width {
                    (buffer + offset + width).update(repeating: 0, count: min(built, end) - offset - width)
                }
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

    /// Scratch floats one thread needs for `weightGradientChunk` on chunks of `samples` samples.
    static func weightGradientScratch(_ s: Conv2DShape, samples: Int) -> Int {
        let g = s.geometry, columns = samples * g.outPlane
        return samples * g.inPlane * g.channels + columns * s.outPerGroup + columns * g.patch
    }

    /// dW' (+)= dY · im2row(x) for one chunk, every group, into `out` [O, k²·C/G] with each
    /// group's patch ordered (i, j, c); `first` overwrites instead of adding. Calling thread only.
    static func weightGradientChunk(_ s: Conv2DShape, samples: Range<Int>, x: UnsafePointer<Float>,
                                    dy: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, first: Bool,
                                    scratch: UnsafeMutablePointer<Float>) {
        let g = s.geometry, plane = g.outPlane, og = s.outPerGroup, cg = g.channels
        let b0 = samples.lowerBound, n = samples.count, columns = n * plane
        let xt = scratch                                   // [S, H, W, C/G]
        let dyt = xt + n * g.inPlane * cg                  // [S·Ho·Wo, O/G]
        let rowsT = dyt + columns * og                     // [S·Ho·Wo, k²·C/G]
        for gi in 0..<s.groups {
            for si in 0..<n {
                transpose(x + (b0 + si) * s.inSample + gi * cg * g.inPlane, rows: cg, cols: g.inPlane,
                          into: xt + si * g.inPlane * cg)
                transpose(dy + (b0 + si) * s.outSample + gi * og * plane, rows: og, cols: plane,
                          into: dyt + si * plane * og)
            }
            im2row(g, xt: xt, samples: n, into: rowsT)
            // dW'_g (+)= dYᵀᵀ · rows: A = dYᵀ stored [K, M], B = rows stored [K, N], both read
            // along their rows by the packing.
            gemm(transA: true, transB: false, m: og, n: g.patch, k: columns,
                 a: dyt, lda: og, b: rowsT, ldb: g.patch,
                 beta: first ? 0 : 1, c: out + gi * og * g.patch, ldc: g.patch, parallel: false)
        }
    }

    /// rows[(s, oh, ow), (i, j, c)] = xt[s, oh·st − p + i, ow·st − p + j, c] (zero in the padding).
    static func im2row(_ g: ConvGeometry, xt: UnsafePointer<Float>, samples: Int, into rows: UnsafeMutablePointer<Float>) {
        let cg = g.channels, patch = g.patch
        var dst = rows
        for s in 0..<samples {
            let image = xt + s * g.inPlane * cg
            for oh in 0..<g.outH {
                for ow in 0..<g.outW {
                    for i in 0..<g.kernelH {
                        let ih = oh * g.stride - g.padding + i
                        for j in 0..<g.kernelW {
                            let iw = ow * g.stride - g.padding + j
                            let d = dst + (i * g.kernelW + j) * cg
                            if ih >= 0 && ih < g.height && iw >= 0 && iw < g.width {
                                d.update(from: image + (ih * g.width + iw) * cg, count: cg)
                            } else {
                                d.update(repeating: 0, count: cg)
                            }
                        }
                    }
                    dst += patch
                }
            }
        }
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
