/// im2col and col2im: turning a convolution into one matrix product, and back.
///
/// A 2-D convolution computes, for every output pixel (oh, ow) and output channel o,
///
///     y[o, oh, ow] = Σ_{c, i, j} w[o, c, i, j] · x[c, oh·s − p + i, ow·s − p + j]
///
/// (zero where the index falls in the padding). im2col copies each receptive field into a
/// column of a matrix `cols` with one row per (c, i, j) and one column per output pixel:
///
///     cols[(c, i, j), (oh, ow)] = x[c, oh·s − p + i, ow·s − p + j]      // [C·kH·kW, Ho·Wo]
///
/// so that the convolution is the product y = W · cols with W viewed as [O, C·kH·kW].
/// col2im is its adjoint: it adds every entry of `cols` back onto the pixel it came from,
/// which is what the backward pass needs (dx = col2im(Wᵀ · dy)).
///
/// Both work on a *chunk* of S samples at once: the columns of sample s sit at
/// s·Ho·Wo ..< (s + 1)·Ho·Wo, so the product sees S·Ho·Wo columns — wide enough to keep the
/// GEMM micro-kernel busy even at 7 × 7 resolution.
public struct ConvGeometry: Equatable {
    /// Input channels seen by one group, and the input image size.
    public var channels: Int, height: Int, width: Int
    public var kernelH: Int, kernelW: Int
    public var stride: Int, padding: Int
    /// Output size: ⌊(H + 2p − kH) / s⌋ + 1, likewise for W.
    public var outH: Int, outW: Int

    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                stride: Int, padding: Int, outH: Int? = nil, outW: Int? = nil) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW
        self.stride = stride; self.padding = padding
        self.outH = outH ?? (height + 2 * padding - kernelH) / stride + 1
        self.outW = outW ?? (width + 2 * padding - kernelW) / stride + 1
    }

    /// Rows of `cols`: C·kH·kW.
    public var patch: Int { channels * kernelH * kernelW }
    /// Output pixels per sample: Ho·Wo.
    public var outPlane: Int { outH * outW }
    /// Input pixels per channel: H·W.
    public var inPlane: Int { height * width }
}

enum Im2Col {
    /// cols[(c, i, j), s·Ho·Wo + oh·Wo + ow] = x_s[c, oh·s − p + i, ow·s − p + j] for the S
    /// samples starting at `x` (sample s at x + s·sampleStride, channel c at + c·H·W).
    /// `parallel: false` keeps the copy on the calling thread (for callers that already run one
    /// chunk of samples per thread); `gatherChannels` and `scatterChannels` take the same flag.
    static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, sampleStride: Int, samples: Int,
                       cols: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let columns = samples * g.outPlane
        // One job = one row of cols for one sample; each job writes its own stretch of cols.
        Parallel.forRanges(g.patch * samples, grain: parallel ? 16 : Int.max) { jobs in
            for job in jobs {
                let row = job / samples, s = job % samples
                im2colRow(g, row: row, sample: x + s * sampleStride, dst: cols + row * columns + s * g.outPlane)
            }
        }
    }

    /// Row (c, i, j) of im2col for one sample (`sample` points at its channel 0): the Ho·Wo
    /// values x[c, oh·s − p + i, ow·s − p + j] written to `dst`.
    @inline(__always)
    static func im2colRow(_ g: ConvGeometry, row: Int, sample: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) {
        let kk = g.kernelH * g.kernelW
        let c = row / kk, i = (row % kk) / g.kernelW, j = row % g.kernelW
        let src = sample + c * g.inPlane
        if g.stride == 1 && g.outW == g.width {
            samePlaneRow(g, i: i, j: j, src: src, dst: dst)
            return
        }
        for oh in 0..<g.outH {
            let ih = oh * g.stride - g.padding + i
            let d = dst + oh * g.outW
            guard ih >= 0 && ih < g.height else { d.update(repeating: 0, count: g.outW); continue }
            let srcRow = src + ih * g.width
            if g.stride == 1 {
                // Valid ow: 0 ≤ ow − p + j < W, i.e. ow ∈ [p − j, W + p − j).
                let lo = min(g.outW, max(0, g.padding - j))
                let hi = max(lo, min(g.outW, g.width + g.padding - j))
                d.update(repeating: 0, count: lo)
                (d + lo).update(from: srcRow + (lo - g.padding + j), count: hi - lo)
                (d + hi).update(repeating: 0, count: g.outW - hi)
            } else {
                for ow in 0..<g.outW {
                    let iw = ow * g.stride - g.padding + j
                    d[ow] = iw >= 0 && iw < g.width ? srcRow[iw] : 0
                }
            }
        }
    }

    /// One (c, i, j) row of im2col for one sample when the output has the input's width and
    /// the stride is 1 (the U-Net's 3×3 "same" and 1×1 convolutions). Then the window offset
    /// (i − p, j − p) is a constant shift of the flattened plane:
    ///
    ///     dst[oh·W + ow] = src[oh·W + ow + (i − p)·W + (j − p)]
    ///
    /// so the valid rows are one contiguous copy, and only the ≤ p columns at each edge that
    /// wrapped around to the neighbouring row (plus rows off the top or bottom) are zeroed:
    /// one memmove per row of cols instead of one per row of the image (7–28 floats each).
    @inline(__always)
    static func samePlaneRow(_ g: ConvGeometry, i: Int, j: Int, src: UnsafePointer<Float>,
                             dst: UnsafeMutablePointer<Float>) {
        let w = g.width, p = g.padding
        let ohLo = min(g.outH, max(0, p - i)), ohHi = max(ohLo, min(g.outH, g.height + p - i))
        let lo = min(w, max(0, p - j)), hi = max(lo, min(w, w + p - j))
        dst.update(repeating: 0, count: ohLo * w)
        (dst + ohHi * w).update(repeating: 0, count: (g.outH - ohHi) * w)
        guard ohLo < ohHi && lo < hi else {
            (dst + ohLo * w).update(repeating: 0, count: (ohHi - ohLo) * w)
            return
        }
        // From (ohLo, lo) to (ohHi − 1, hi − 1): every source index stays inside the plane.
        let first = ohLo * w + lo, last = (ohHi - 1) * w + hi
        (dst + first).update(from: src + first + (i - p) * w + (j - p), count: last - first)
        for oh in ohLo..<ohHi {
            let d = dst + oh * w
            var q = 0
            while q < lo { d[q] = 0; q += 1 }
            q = hi
            while q < w { d[q] = 0; q += 1 }
        }
    }

    /// The adjoint of `im2col`: x_s[c, oh·s − p + i, ow·s − p + j] += cols[(c, i, j), s·Ho·Wo + oh·Wo + ow].
    /// Adds onto `x` (zero it first for a plain col2im). Entries landing in the padding are dropped.
    static func col2im(_ g: ConvGeometry, cols: UnsafePointer<Float>, samples: Int,
                       x: UnsafeMutablePointer<Float>, sampleStride: Int) {
        let columns = samples * g.outPlane
        let kk = g.kernelH * g.kernelW
        // One job = one (sample, channel) image plane: the only writer of that plane, and it
        // adds the kH·kW contributions in a fixed order, so the result is deterministic.
        Parallel.forRanges(samples * g.channels, grain: 4) { jobs in
            for job in jobs {
                let s = job / g.channels, c = job % g.channels
                let plane = x + s * sampleStride + c * g.inPlane
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        let src = cols + (c * kk + i * g.kernelW + j) * columns + s * g.outPlane
                        for oh in 0..<g.outH {
                            let ih = oh * g.stride - g.padding + i
                            guard ih >= 0 && ih < g.height else { continue }
                            let srcRow = src + oh * g.outW
                            let dstRow = plane + ih * g.width
                            if g.stride == 1 {
                                let lo = min(g.outW, max(0, g.padding - j))
                                let hi = max(lo, min(g.outW, g.width + g.padding - j))
                                let d = dstRow + (lo - g.padding + j)
                                for ow in 0..<(hi - lo) { d[ow] += srcRow[lo + ow] }
                            } else {
                                for ow in 0..<g.outW {
                                    let iw = ow * g.stride - g.padding + j
                                    if iw >= 0 && iw < g.width { dstRow[iw] += srcRow[ow] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Copies channels c0 ..< c0 + C of S samples [S, total, P] into a matrix [C, S·P]
    /// (channel-major, samples side by side), the layout the chunked products use.
    static func gatherChannels(_ src: UnsafePointer<Float>, sampleStride: Int, samples: Int,
                               channels: Int, plane: Int, into dst: UnsafeMutablePointer<Float>,
                               parallel: Bool = true) {
        let columns = samples * plane
        Parallel.forRanges(channels * samples, grain: parallel ? 64 : Int.max) { jobs in
            for job in jobs {
                let c = job / samples, s = job % samples
                (dst + c * columns + s * plane).update(from: src + s * sampleStride + c * plane, count: plane)
            }
        }
    }

    /// The inverse of `gatherChannels`: writes (or with `accumulate`, adds) a [C, S·P] matrix
    /// back into [S, total, P] at channel offset 0 of `dst`, plus `bias[c]` when given.
    static func scatterChannels(_ src: UnsafePointer<Float>, samples: Int, channels: Int, plane: Int,
                                into dst: UnsafeMutablePointer<Float>, sampleStride: Int,
                                bias: UnsafePointer<Float>?, accumulate: Bool = false, parallel: Bool = true) {
        let columns = samples * plane
        Parallel.forRanges(channels * samples, grain: parallel ? 64 : Int.max) { jobs in
            for job in jobs {
                let c = job / samples, s = job % samples
                let from = src + c * columns + s * plane
                let to = dst + s * sampleStride + c * plane
                let b = bias?[c] ?? 0
                if accumulate {
                    for q in 0..<plane { to[q] += from[q] + b }
                } else {
                    for q in 0..<plane { to[q] = from[q] + b }
                }
            }
        }
    }

    /// Samples per chunk for `batch` samples when one sample needs `floatsPerSample` floats
    /// of scratch: as many as fit in `budget` floats (at least one), spread evenly so no
    /// chunk is thin. Depends only on the problem size, never on the thread count.
    static func chunkSize(batch: Int, floatsPerSample: Int, budget: Int = 1 << 21) -> Int {
        let fit = max(1, min(batch, budget / max(1, floatsPerSample)))
        let chunks = (batch + fit - 1) / fit
        return (batch + chunks - 1) / chunks
    }
}
