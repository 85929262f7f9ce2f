/// Convolutions as matrix products (im2col + `gemm`), and where each pass is computed.
///
/// Forward, for each group (channels c0 ..< c0 + C/G), over the whole batch:
///
///     cols = im2col(x)                             // [C/G·kH·kW, B·Ho·Wo]
///     Y    = W_g · cols                            // [O/G, B·Ho·Wo]
///     y[s, o, :] = Y[o, s·Ho·Wo ..< (s+1)·Ho·Wo] + b[o]
///
/// computed by ConvPacked.swift in cache-sized chunks of columns, without writing cols out.
///
/// Backward:
///
///     dW_g += dY · colsᵀ                           // [O/G, C/G·kH·kW]  (sum over chunks, in order)
///     dx   += col2im(W_gᵀ · dY)                    // [C/G·kH·kW, B·Ho·Wo] → [B, C/G, H, W]
///           (= conv2d(dy, flipped Wᵀ) for stride 1, computed that way: see `backward`)
///     db[o] = Σ_{s, oh, ow} dy[s, o, oh, ow]
///
/// The transposed convolution is the same pair with the roles swapped: its forward pass is
/// a convolution's input gradient (col2im(Wᵀ · x)) and its input gradient is a convolution
/// (W · im2col(dy)).
///
/// Threads: the forward pass gives each thread an equal run of column chunks. dW, when the
/// batch makes at least 4 cache-sized chunks of samples (`CacheChunks`), gives each thread
/// whole chunks through per-lane partial sums added in a fixed order (`weightGradientByChunks`;
/// many output channels: ConvWeightGradient.swift, few: DotProductGEMM.swift); smaller batches
/// run each product on all threads inside `gemm`. Every sum's order depends only on the
/// shapes, so results never depend on the thread count. Scratch memory is bounded by the
/// chunk sizes, not by the batch.
struct Conv2DShape {
    var batch: Int
    var inChannels: Int
    var outChannels: Int
    var groups: Int
    /// Window geometry of one group (geometry.channels = inChannels / groups).
    var geometry: ConvGeometry

    var outPerGroup: Int { outChannels / groups }
    var inSample: Int { inChannels * geometry.inPlane }
    var outSample: Int { outChannels * geometry.outPlane }
}

/// Scratch buffers for the kernels, 64-byte aligned; freed by the caller's `defer`.
@inline(__always) func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(1, count))
}

/// Calls `body` with a pointer to the elements of `array`, or nil when there is no array.
@inline(__always) func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Calls `body` with a mutable pointer to the elements of `array`, or nil when there is none.
@inline(__always) func withOptionalMutablePointer<R>(_ array: inout [Float]?,
                                                     _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard array != nil else { return body(nil) }
    return array!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}

/// Chunks of samples for the weight gradient, small enough that a chunk's columns and output
/// (at most 2 MB) stay close to one core's 1 MB L2 cache, so that each thread runs whole
/// chunks with single-threaded products and no waiting. The partition depends only on the
/// shapes, never on the thread count: the chunks fix the order of dW's sums.
struct CacheChunks {
    let batch: Int, count: Int
    /// Samples in the largest chunk.
    var size: Int { (batch + count - 1) / count }

    init(_ s: Conv2DShape) {
        batch = s.batch
        let fit = Im2Col.chunkSize(batch: s.batch, floatsPerSample: (s.geometry.patch + s.outPerGroup) * s.geometry.outPlane,
                                   budget: 1 << 19)
        // More than 4 chunks: a multiple of 8, so the weight gradient's 8 lanes (below) get
        // the same work, and so do 1, 2, 4 or 8 threads.
        let fitting = (batch + fit - 1) / fit
        count = fitting <= 4 ? fitting : min(batch, (fitting + 7) / 8 * 8)
    }

    /// Chunk c: sizes differ by at most one sample (128 in 24 chunks: 8 of 6 and 16 of 5).
    func samples(_ chunk: Int) -> Range<Int> { batch * chunk / count ..< batch * (chunk + 1) / count }
}

enum ConvGEMM {
    /// y = conv2d(x, w) + b.  x [B, C, H, W], w [O, C/G, kH, kW], y [B, O, Ho, Wo].
    /// The weights are packed once and the image straight into panels (ConvPacked.swift).
    static func forward(_ s: Conv2DShape, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        ConvPacked.forward(s, x: x, w: w, bias: bias, y: y)
    }

    /// Gradients of `forward`: dx and dw (both overwritten), each only when asked for.
    ///
    /// With stride 1 (and p < k), dx is itself a convolution — of dy, padded by k − 1 − p, with
    /// the kernel flipped and its in/out axes swapped: dx = conv2d(dy, w̃), w̃[c, o, i, j] =
    /// w[o, c, k−1−i, k−1−j]. That product has depth O·k² instead of O (the col2im route
    /// multiplies by only O per column, then scatters k² partial sums onto every pixel), so it
    /// keeps the micro-kernel busy. Other strides use col2im(Wᵀ · dy).
    static func backward(_ s: Conv2DShape, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         dw: UnsafeMutablePointer<Float>?) {
        let g = s.geometry, plane = g.outPlane, patch = g.patch, og = s.outPerGroup
        let asConvolution = g.stride == 1 && g.padding < g.kernelH && g.padding < g.kernelW
            && g.kernelH == g.kernelW
        if let dx, asConvolution {
            inputGradientAsConvolution(s, w: w, dy: dy, dx: dx)
        }
        let needCols = dw != nil || (dx != nil && !asConvolution)
        guard needCols else { return }
        // (Which dW path runs must not depend on the thread count: the two sum in different orders.)
        if let dw, dx == nil || asConvolution, CacheChunks(s).count >= 4 {
            weightGradientByChunks(s, x: x, dy: dy, dw: dw)
            return
        }
        let chunk = Im2Col.chunkSize(batch: s.batch, floatsPerSample: (patch + og) * plane)
        let cols = allocateFloats(patch * chunk * plane), dyc = allocateFloats(og * chunk * plane)
        defer { cols.deallocate(); dyc.deallocate() }
        let dxCol2im = asConvolution ? nil : dx
        if let dxCol2im { dxCol2im.update(repeating: 0, count: s.batch * s.inSample) }
        for b0 in stride(from: 0, to: s.batch, by: chunk) {
            let n = min(chunk, s.batch - b0), columns = n * plane
            for gi in 0..<s.groups {
                let xg = x + b0 * s.inSample + gi * g.channels * g.inPlane
                Im2Col.gatherChannels(dy + b0 * s.outSample + gi * og * plane, sampleStride: s.outSample,
                                      samples: n, channels: og, plane: plane, into: dyc)
                if let dw {
                    // dW_g (+)= dY · colsᵀ: [O/G, S·P] · [S·P, patch]
                    Im2Col.im2col(g, x: xg, sampleStride: s.inSample, samples: n, cols: cols)
                    gemm(transA: false, transB: true, m: og, n: patch, k: columns,
                         a: dyc, lda: columns, b: cols, ldb: columns,
                         beta: b0 == 0 ? 0 : 1, c: dw + gi * og * patch, ldc: patch)
                }
                if let dxCol2im {
                    // dcols = W_gᵀ · dY: [patch, O/G] · [O/G, S·P], then back onto the pixels.
                    gemm(transA: true, transB: false, m: patch, n: columns, k: og,
                         a: w + gi * og * patch, lda: patch, b: dyc, ldb: columns,
                         beta: 0, c: cols, ldc: columns)
                    Im2Col.col2im(g, cols: cols, samples: n,
                                  x: dxCol2im + b0 * s.inSample + gi * g.channels * g.inPlane, sampleStride: s.inSample)
                }
            }
        }
    }

    /// dW = Σ_chunks dY_chunk · cols_chunkᵀ with the chunks shared out over the threads.
    ///
    /// The chunks are dealt into `lanes` fixed runs of consecutive chunks (the count depends
    /// only on the shapes); each lane sums its chunks in order into its own partial dW, and
    /// the partials are added in lane order. So the summation order of every element is the
    /// same for any number of threads, and each thread works on cache-sized chunks without
    /// waiting for the other.
    static func weightGradientByChunks(_ s: Conv2DShape, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                       dw: UnsafeMutablePointer<Float>) {
        let g = s.geometry, plane = g.outPlane, patch = g.patch, og = s.outPerGroup
        let chunks = CacheChunks(s), lanes = min(chunks.count, 8), size = s.outChannels * patch
        // Few output channels, or a 1×1 kernel (a patch of a few channels, where transposing
        // every chunk would cost more than the product): dot products over NCHW columns, no
        // packing (DotProductGEMM.swift). Otherwise the micro-kernel on channels-last copies
        // (ConvWeightGradient.swift), in the patch order (i, j, c). (Measured in the U-Net step: the
        // 28 → 128 1×1 convolution's backward took twice as long through the transposes.)
        let channelsLast = og > 64 && g.kernelH * g.kernelW > 1
        let total = channelsLast ? allocateFloats(size) : dw               // dW in the lanes' order
        let partials = allocateFloats((lanes - 1) * size)                  // lane 0 writes `total`
        defer { partials.deallocate(); if channelsLast { total.deallocate() } }
        let runs = channelsLast ? ConvPacked.panelRuns(g) : []
        Parallel.forRanges(lanes) { laneRange in
            let scratch = allocateFloats(channelsLast ? ConvPacked.weightGradientScratch(s, samples: chunks.size)
                                                      : (patch + og) * chunks.size * plane)
            defer { scratch.deallocate() }
            let cols = scratch, dyc = scratch + patch * chunks.size * plane
            for lane in laneRange {
                let out = lane == 0 ? total : partials + (lane - 1) * size
                for chunk in chunks.count * lane / lanes ..< chunks.count * (lane + 1) / lanes {
                    let samples = chunks.samples(chunk), b0 = samples.lowerBound, n = samples.count
                    let first = chunk == chunks.count * lane / lanes
                    if channelsLast {
                        ConvPacked.weightGradientChunk(s, samples: samples, x: x, dy: dy, out: out, first: first,
                                                       runs: runs, scratch: scratch)
                        continue
                    }
                    for gi in 0..<s.groups {
                        Im2Col.gatherChannels(dy + b0 * s.outSample + gi * og * plane, sampleStride: s.outSample,
                                              samples: n, channels: og, plane: plane, into: dyc, parallel: false)
                        Im2Col.im2col(g, x: x + b0 * s.inSample + gi * g.channels * g.inPlane,
                                      sampleStride: s.inSample, samples: n, cols: cols, parallel: false)
                        // dW_g (+)= dY · colsᵀ: [O/G, S·P] · [S·P, patch], both with S·P contiguous.
                        DotProductGEMM.run(m: og, n: patch, k: n * plane, a: dyc, lda: n * plane,
                                           b: cols, ldb: n * plane, beta: first ? 0 : 1,
                                           c: out + gi * og * patch, ldc: patch)
                    }
                }
            }
        }
        // total += partial 1, partial 2, ... in lane order.
        Parallel.forRanges(size, grain: 4096) { range in
            for lane in 1..<max(1, lanes) {
                let p = partials + (lane - 1) * size
                for i in range { total[i] += p[i] }
            }
        }
        if channelsLast { ConvPacked.unpermute(total, s, into: dw) }
    }

    /// dx = conv2d(dy, w̃, padding k − 1 − p) with w̃[g·C/G + c, o, i, j] = w[g·O/G + o, c, k−1−i, k−1−j]
    /// (stride 1): the input gradient as a forward convolution.
    static func inputGradientAsConvolution(_ s: Conv2DShape, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                           dx: UnsafeMutablePointer<Float>) {
        let g = s.geometry, og = s.outPerGroup, cg = g.channels, kh = g.kernelH, kw = g.kernelW
        let flipped = allocateFloats(s.outChannels * g.patch)
        defer { flipped.deallocate() }
        for gi in 0..<s.groups {
            for o in 0..<og {
                for c in 0..<cg {
                    for i in 0..<kh {
                        for j in 0..<kw {
                            flipped[(((gi * cg + c) * og + o) * kh + i) * kw + j] =
                                w[(((gi * og + o) * cg + c) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)]
                        }
                    }
                }
            }
        }
        let back = ConvGeometry(channels: og, height: g.outH, width: g.outW, kernelH: kh, kernelW: kw,
                                stride: 1, padding: kh - 1 - g.padding, outH: g.height, outW: g.width)
        let shape = Conv2DShape(batch: s.batch, inChannels: s.outChannels, outChannels: s.inChannels,
                                groups: s.groups, geometry: back)
        forward(shape, x: dy, w: flipped, bias: nil, y: dx)
    }

    /// db[c] = Σ_{b, q} dy[b, c, q] for dy [B, C, plane]; each channel summed in a fixed order.
    static func biasGradient(_ dy: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                             into db: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(channels, grain: 8) { range in
            for c in range {
                var total: Float = 0
                for b in 0..<batch { total += VectorKernels.sum(dy + (b * channels + c) * plane, plane) }
                db[c] = total
            }
        }
    }
}

/// The transposed convolution (a.k.a. fractionally strided convolution) through the same kernels.
///
/// With `g` the geometry of the *forward* convolution that maps the transposed conv's output
/// [B, O, Ho, Wo] to its input [B, C, H, W] (g.channels = O, g.height = Ho, g.outH = H), and
/// the weight w stored [C, O, kH, kW] as in PyTorch:
///
///     y  = col2im(wᵀ · x) + b                      // wᵀ: [O·kH·kW, C]
///     dx = w · im2col(dy)                          // [C, O·kH·kW] · [O·kH·kW, S·H·W]
///     dw = Σ_chunks x · im2col(dy)ᵀ                // [C, O·kH·kW]
enum ConvTransposeGEMM {
    static func forward(_ g: ConvGeometry, batch: Int, inChannels: Int, x: UnsafePointer<Float>,
                        w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let plane = g.outPlane, patch = g.patch
        let inSample = inChannels * plane, outSample = g.channels * g.inPlane
        let chunk = Im2Col.chunkSize(batch: batch, floatsPerSample: (patch + inChannels) * plane)
        let cols = allocateFloats(patch * chunk * plane), xc = allocateFloats(inChannels * chunk * plane)
        defer { cols.deallocate(); xc.deallocate() }
        for b in 0..<batch {
            for o in 0..<g.channels {
                (y + b * outSample + o * g.inPlane).update(repeating: bias?[o] ?? 0, count: g.inPlane)
            }
        }
        for b0 in stride(from: 0, to: batch, by: chunk) {
            let n = min(chunk, batch - b0), columns = n * plane
            Im2Col.gatherChannels(x + b0 * inSample, sampleStride: inSample, samples: n,
                                  channels: inChannels, plane: plane, into: xc)
            gemm(transA: true, transB: false, m: patch, n: columns, k: inChannels,
                 a: w, lda: patch, b: xc, ldb: columns, beta: 0, c: cols, ldc: columns)
            Im2Col.col2im(g, cols: cols, samples: n, x: y + b0 * outSample, sampleStride: outSample)
        }
    }

    static func backward(_ g: ConvGeometry, batch: Int, inChannels: Int, x: UnsafePointer<Float>,
                         w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        let plane = g.outPlane, patch = g.patch
        let inSample = inChannels * plane, outSample = g.channels * g.inPlane
        let chunk = Im2Col.chunkSize(batch: batch, floatsPerSample: (patch + inChannels) * plane)
        let cols = allocateFloats(patch * chunk * plane), xc = allocateFloats(inChannels * chunk * plane)
        defer { cols.deallocate(); xc.deallocate() }
        for b0 in stride(from: 0, to: batch, by: chunk) {
            let n = min(chunk, batch - b0), columns = n * plane
            Im2Col.im2col(g, x: dy + b0 * outSample, sampleStride: outSample, samples: n, cols: cols)
            if let dw {
                Im2Col.gatherChannels(x + b0 * inSample, sampleStride: inSample, samples: n,
                                      channels: inChannels, plane: plane, into: xc)
                gemm(transA: false, transB: true, m: inChannels, n: patch, k: columns,
                     a: xc, lda: columns, b: cols, ldb: columns, beta: b0 == 0 ? 0 : 1, c: dw, ldc: patch)
            }
            if let dx {
                gemm(transA: false, transB: false, m: inChannels, n: columns, k: patch,
                     a: w, lda: patch, b: cols, ldb: columns, beta: 0, c: xc, ldc: columns)
                Im2Col.scatterChannels(xc, samples: n, channels: inChannels, plane: plane,
                                       into: dx + b0 * inSample, sampleStride: inSample, bias: nil)
            }
        }
    }
}
