/// The weight gradient of a convolution with many output channels, packed from channels-last
/// copies of the image (the forward pass is in ConvPacked.swift).
///
/// dW = dY · im2col(x)ᵀ sums over pixels: for each pixel the micro-kernel wants 14 (or 12) consecutive
/// output channels of dY and 32 consecutive patch entries, both strided in NCHW. In
/// channels-last order they are contiguous, so each chunk of samples is first transposed
/// (dYᵀ [S·Ho·Wo, O], x → [S, H, W, C]) and the patch is ordered (i, j, c):
///
///     im2row[(s, oh, ow), (i, j, c)] = x[s, c, oh·st − p + i, ow·st − p + j]
///     dW' = dYᵀᵀ · im2row         [O, k²·C], permuted back to [O, C, k, k] at the end
///
/// Both operands then pack by copies of consecutive floats, and the B panels come straight
/// from the channels-last image (im2row is never written out). The K blocks are `gemm`'s, so
/// the bits are those of `gemm(transA: true, dYᵀ, im2row)`.
extension ConvPacked {
    static func weightGradientScratch(_ s: Conv2DShape, samples: Int) -> Int {
        let g = s.geometry, columns = samples * g.outPlane, mr = GEMMMicroKernel.rows(for: s.outPerGroup)
        let nr = GEMMMicroKernel.nr, kc = GEMMBlocking.kc, rowsPadded = (s.outPerGroup + mr - 1) / mr * mr
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
        let mr = GEMMMicroKernel.rows(for: s.outPerGroup), nr = GEMMMicroKernel.nr
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
                GEMMPack.packA(mr: mr, transA: true, a: dyt, lda: og, i0: 0, p0: pc, mc: og, kc: kc, into: aPacked)
                let beta: Float = first && pc == 0 ? 0 : 1
                pixelSources(g, pixels: pc ..< pc + kc, into: sources)
                for (panel, panelRuns) in runs.enumerated() {
                    let jr = panel * nr
                    packRowPanel(g, xt: xt, pixels: kc, sources: sources, runs: panelRuns, into: bPanel)
                    GEMMMicroKernel.panel(mr: mr, kc: kc, a: aPacked, b: bPanel, c: c + jr, ldc: g.patch,
                                          cColumnStride: 1, rows: og, cols: min(nr, g.patch - jr),
                                          alpha: 1, beta: beta)
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
