/// im2col for a stride-1 "same" convolution (output size = input size, p < k) by shifted
/// vector loads and masks, written straight into the micro-kernel's packed panels.
///
/// Flatten the output pixels of the whole batch into columns, col = s·H·W + oh·W + ow. Then
/// row (c, i, j) of im2col is channel c of the input, flattened the same way, shifted by one
/// constant, with zeros wherever the window leaves the image:
///
///     cols[(c, i, j), col] = valid_ij(col mod HW) ? x_c[col + (i − p)·W + (j − p)] : 0
///
/// (a window that leaves the image reads the neighbouring row or sample instead, and the mask
/// throws that value away). So for a chunk of columns:
///
/// 1. `stage` copies the chunk's input channels, each as one flat row with `margin` columns
///    of context on both sides, and writes the masks of the k² window positions;
/// 2. `pack` builds every packed row with two 16-float loads, two bitwise ANDs with the mask
///    (the float's bits where valid, +0.0 elsewhere) and two stores per 32-column panel.
///
/// No division, branch or library call per value; the packed values are exactly im2col's.
struct ShiftedIm2Col {
    let g: ConvGeometry
    /// Context columns each side: the largest shift, (W + 1) · max(p, k − 1 − p).
    let margin: Int
    /// valid[t·HW + q]: window position t = (i, j) at output pixel q lies inside the image.
    let valid: [Bool]

    /// nil unless `g` is a stride-1 convolution whose output has the input's size.
    init?(_ g: ConvGeometry) {
        guard g.stride == 1, g.outH == g.height, g.outW == g.width, g.padding < g.kernelH, g.padding < g.kernelW,
              g.kernelH == g.kernelW else { return nil }
        self.g = g
        margin = (g.width + 1) * max(g.padding, g.kernelH - 1 - g.padding)
        var valid = [Bool](repeating: false, count: g.kernelH * g.kernelW * g.inPlane)
        for t in 0 ..< g.kernelH * g.kernelW {
            let i = t / g.kernelW, j = t % g.kernelW
            for q in 0..<g.inPlane {
                let ih = q / g.width + i - g.padding, iw = q % g.width + j - g.padding
                valid[t * g.inPlane + q] = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
            }
        }
        self.valid = valid
    }

    /// Floats of one staged channel row for chunks of `padded` (a multiple of 32) columns.
    func rowLength(padded: Int) -> Int { padded + 2 * margin }

    /// Scratch floats for chunks of at most `padded` columns: staged channels, then masks.
    func scratch(padded: Int) -> Int { g.channels * rowLength(padded: padded) + g.kernelH * g.kernelW * padded }

    /// Masks of the chunk `columns` (of `padded` packed columns) for every window position:
    /// all ones where valid and inside the chunk, zero elsewhere. Shared by the groups.
    func stageMasks(columns: Range<Int>, padded: Int, scratch: UnsafeMutablePointer<Float>) {
        let masks = UnsafeMutableRawPointer(scratch + g.channels * rowLength(padded: padded))
            .bindMemory(to: UInt32.self, capacity: g.kernelH * g.kernelW * padded)
        let plane = g.inPlane
        valid.withUnsafeBufferPointer { valid in
            for t in 0 ..< g.kernelH * g.kernelW {
                let m = masks + t * padded, v = valid.baseAddress! + t * plane
                var q = columns.lowerBound % plane
                for col in 0..<columns.count {
                    m[col] = v[q] ? ~0 : 0
                    q += 1
                    if q == plane { q = 0 }
                }
                (m + columns.count).update(repeating: 0, count: padded - columns.count)
            }
        }
    }

    /// Copies the chunk's columns of the group's channels (`x` at channel 0 of sample 0), plus
    /// `margin` columns each side (zero beyond the batch), into the staged rows.
    func stage(x: UnsafePointer<Float>, sampleStride: Int, batch: Int, columns: Range<Int>, padded: Int,
               scratch: UnsafeMutablePointer<Float>) {
        let plane = g.inPlane, total = batch * plane, length = rowLength(padded: padded)
        for c in 0..<g.channels {
            let dst = scratch + c * length + margin                 // column 0 of the chunk
            var col = -margin
            let end = padded + margin
            while col < end {
                let flat = columns.lowerBound + col
                if flat < 0 {
                    let n = min(end, -columns.lowerBound) - col
                    (dst + col).update(repeating: 0, count: n)
                    col += n
                } else if flat >= total {
                    (dst + col).update(repeating: 0, count: end - col)
                    col = end
                } else {
                    let s = flat / plane, q = flat % plane, n = min(plane - q, end - col)
                    (dst + col).update(from: x + s * sampleStride + c * plane + q, count: n)
                    col += n
                }
            }
        }
    }

    /// Packs rows `rows` of the chunk's im2col as `GEMMPack.packB` would: ⌈padded / 32⌉ panels
    /// of rows.count × 32 floats.
    func pack(rows: Range<Int>, padded: Int, scratch: UnsafeMutablePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let kk = g.kernelH * g.kernelW, length = rowLength(padded: padded), kc = rows.count
        let masks = UnsafeRawPointer(scratch + g.channels * length)
        for (r, p) in rows.enumerated() {
            let c = p / kk, t = p % kk, i = t / g.kernelW, j = t % g.kernelW
            let src = UnsafeRawPointer(scratch + c * length + margin + (i - g.padding) * g.width + (j - g.padding))
            let m = masks + t * padded * 4
            var dst = UnsafeMutableRawPointer(packed + r * 32)
            for b in stride(from: 0, to: padded * 4, by: 128) {
                let lo = src.loadUnaligned(fromByteOffset: b, as: SIMD16<UInt32>.self)
                let hi = src.loadUnaligned(fromByteOffset: b + 64, as: SIMD16<UInt32>.self)
                dst.storeBytes(of: lo & m.loadUnaligned(fromByteOffset: b, as: SIMD16<UInt32>.self), as: SIMD16<UInt32>.self)
                dst.storeBytes(of: hi & m.loadUnaligned(fromByteOffset: b + 64, as: SIMD16<UInt32>.self),
                               toByteOffset: 64, as: SIMD16<UInt32>.self)
                dst += kc * 128
            }
        }
    }
}
