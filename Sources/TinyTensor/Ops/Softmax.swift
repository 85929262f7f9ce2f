import Foundation

// MARK: - Softmax and log-softmax

extension Tensor {
    /// softmax(x)_k = exp(x_k − m) / Σ_j exp(x_j − m) along `axis`, with m = max_j x_j
    /// (subtracting the maximum changes nothing mathematically and keeps exp from overflowing).
    ///
    /// Backward: dx_k = y_k · (dy_k − Σ_j dy_j · y_j).
    public func softmax(axis: Int) -> Tensor {
        let layout = SoftmaxLayout(shape, axis)
        let y = layout.forward(data, log: false)
        return Tensor.record(y, shape: shape, inputs: [self], op: "softmax") { g in [layout.backward(g, y: y, log: false)] }
    }

    /// log softmax(x)_k = x_k − m − log Σ_j exp(x_j − m) along `axis` (m = max_j x_j), without
    /// forming the softmax first, so it stays finite where softmax underflows to 0.
    ///
    /// Backward: dx_k = dy_k − softmax(x)_k · Σ_j dy_j, with softmax(x) = exp(y).
    public func logSoftmax(axis: Int) -> Tensor {
        let layout = SoftmaxLayout(shape, axis)
        let y = layout.forward(data, log: true)
        return Tensor.record(y, shape: shape, inputs: [self], op: "logSoftmax") { g in [layout.backward(g, y: y, log: true)] }
    }
}

/// The tensor seen as [outer, n, inner] with the softmax taken over n. Lines along the last
/// axis (inner = 1) are contiguous and use SIMD loops directly; for inner > 1, blocks of up to
/// 256 neighbouring lines are processed together, row by row, so the loops stay contiguous.
/// Each line is handled by exactly one thread: the result does not depend on the thread count.
struct SoftmaxLayout {
    let outer: Int, n: Int, inner: Int
    static let block = 256

    init(_ shape: [Int], _ axis: Int) {
        let a = axis < 0 ? axis + shape.count : axis
        precondition(a >= 0 && a < shape.count, "softmax: axis \(axis) out of range for shape \(shape)")
        (outer, n, inner) = (shape[..<a].product, shape[a], shape[(a + 1)...].product)
    }

    /// Calls `body(base, lanes)` for every block of lines: base is the offset of the block's
    /// first element, lanes its width (≤ 256 neighbouring lines, 1 when inner = 1).
    func forEachBlock(_ body: (Int, Int) -> Void) {
        if inner == 1 {
            Parallel.forRanges(outer, grain: Swift.max(1, 8192 / Swift.max(1, n))) { rows in
                for r in rows { body(r * n, 1) }
            }
            return
        }
        let tiles = (inner + Self.block - 1) / Self.block
        Parallel.forRanges(outer * tiles, grain: Swift.max(1, 32 / Swift.max(1, n))) { jobs in
            for job in jobs {
                let o = job / tiles, i0 = (job % tiles) * Self.block
                body(o * n * inner + i0, Swift.min(Self.block, inner - i0))
            }
        }
    }

    func forward(_ x: [Float], log: Bool) -> [Float] {
        var out = uninitializedFloats(x.count)              // every element written below
        x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { yb in
            let xp = xb.baseAddress!, yp = yb.baseAddress!
            forEachBlock { base, lanes in
                if lanes == 1 && inner == 1 {
                    let m = VectorKernels.maximum(xp + base, n)
                    let total = VectorKernels.expShifted(xp + base, n, shift: m, into: yp + base)
                    // (Pointers to the line, not `base + k` indices: those carry an overflow check
                    // that keeps the loops from being vectorised.)
                    let (x, y) = (xp + base, yp + base)
                    if log {
                        let shift = m + Foundation.log(total)
                        for k in 0..<n { y[k] = x[k] - shift }
                    } else {
                        let scale = 1 / total
                        for k in 0..<n { y[k] *= scale }
                    }
                    return
                }
                // Rows k of a block: x[base + k·inner ..< + lanes]; per-lane max and sum,
                // the loops over the lanes in SIMD (Kernels/VectorKernels.swift).
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * lanes) { scratch in
                    let m = scratch.baseAddress!, total = m + lanes
                    m.initialize(repeating: -.infinity, count: lanes)
                    total.initialize(repeating: 0, count: lanes)
                    for k in 0..<n { VectorKernels.maximumInPlace(m, xp + base + k * inner, lanes) }
                    for k in 0..<n {
                        let row = xp + base + k * inner, dst = yp + base + k * inner
                        VectorKernels.subtract(row, m, into: dst, lanes)
                        _ = VectorKernels.expShifted(dst, lanes, shift: 0, into: dst)
                        VectorKernels.addInPlace(total, dst, lanes)
                    }
                    for k in 0..<n {
                        let row = xp + base + k * inner, dst = yp + base + k * inner
                        if log {
                            for l in 0..<lanes { dst[l] = row[l] - m[l] - Foundation.log(total[l]) }
                        } else {
                            VectorKernels.divideInPlace(dst, by: total, lanes)
                        }
                    }
                }
            }
        } }
        return out
    }

    func backward(_ g: [Float], y: [Float], log: Bool) -> [Float] {
        var dx = uninitializedFloats(g.count)               // every element written below
        g.withUnsafeBufferPointer { gb in y.withUnsafeBufferPointer { yb in dx.withUnsafeMutableBufferPointer { db in
            let gp = gb.baseAddress!, yp = yb.baseAddress!, dp = db.baseAddress!
            forEachBlock { base, lanes in
                // s = Σ_k dy·y (softmax) or Σ_k dy (log-softmax), per line.
                if inner == 1 {
                    let s = log ? VectorKernels.sum(gp + base, n) : VectorKernels.dot(gp + base, yp + base, n)
                    let (y, dy, dx) = (yp + base, gp + base, dp + base)
                    if log {
                        _ = VectorKernels.expShifted(y, n, shift: 0, into: dx)   // softmax = exp(y)
                        for k in 0..<n { dx[k] = dy[k] - dx[k] * s }
                    } else {
                        for k in 0..<n { dx[k] = y[k] * (dy[k] - s) }
                    }
                    return
                }
                withUnsafeTemporaryAllocation(of: Float.self, capacity: lanes) { scratch in
                    let s = scratch.baseAddress!
                    s.initialize(repeating: 0, count: lanes)
                    for k in 0..<n {
                        let (y, dy) = (yp + base + k * inner, gp + base + k * inner)
                        if log {
                            for l in 0..<lanes { s[l] += dy[l] }
                        } else {
                            for l in 0..<lanes { s[l] += dy[l] * y[l] }
                        }
                    }
                    for k in 0..<n {
                        let (y, dy, dx) = (yp + base + k * inner, gp + base + k * inner, dp + base + k * inner)
                        if log {
                            _ = VectorKernels.expShifted(y, lanes, shift: 0, into: dx)
                            for l in 0..<lanes { dx[l] = dy[l] - dx[l] * s[l] }
                        } else {
                            for l in 0..<lanes { dx[l] = y[l] * (dy[l] - s[l]) }
                        }
                    }
                }
            }
        } } }
        return dx
    }
}
