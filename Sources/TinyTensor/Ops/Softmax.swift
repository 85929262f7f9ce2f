import Foundation

// MARK: - Softmax and log-softmax

extension Tensor {
    /// softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m) along `axis`, with m = max_j x_j
    /// (subtracting the maximum changes nothing mathematically and keeps exp from overflowing).
    ///
    /// Backward: dx_i = y_i · (dy_i − Σ_j dy_j · y_j).
    public func softmax(axis: Int) -> Tensor {
        let (outer, n, inner) = softmaxLayout(axis)
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { yp in
            Tensor.forEachLine(outer: outer, n: n, inner: inner) { base in
                var m = -Float.infinity
                for k in 0..<n { m = Swift.max(m, xp[base + k * inner]) }
                var total: Float = 0
                for k in 0..<n { let e = Foundation.exp(xp[base + k * inner] - m); yp[base + k * inner] = e; total += e }
                let scale = 1 / total
                for k in 0..<n { yp[base + k * inner] *= scale }
            }
        } }
        let y = out
        return Tensor.record(out, shape: shape, inputs: [self], op: "softmax") { g in
            var dx = [Float](repeating: 0, count: y.count)
            y.withUnsafeBufferPointer { yp in g.withUnsafeBufferPointer { gp in dx.withUnsafeMutableBufferPointer { dp in
                Tensor.forEachLine(outer: outer, n: n, inner: inner) { base in
                    var s: Float = 0
                    for k in 0..<n { s += gp[base + k * inner] * yp[base + k * inner] }
                    for k in 0..<n { let i = base + k * inner; dp[i] = yp[i] * (gp[i] - s) }
                }
            } } }
            return [dx]
        }
    }

    /// log softmax(x)_i = x_i − m − log Σ_j exp(x_j − m) along `axis` (m = max_j x_j), without
    /// forming the softmax first, so it stays finite where softmax underflows to 0.
    ///
    /// Backward: dx_i = dy_i − softmax(x)_i · Σ_j dy_j.
    public func logSoftmax(axis: Int) -> Tensor {
        let (outer, n, inner) = softmaxLayout(axis)
        var out = [Float](repeating: 0, count: count)
        data.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { yp in
            Tensor.forEachLine(outer: outer, n: n, inner: inner) { base in
                var m = -Float.infinity
                for k in 0..<n { m = Swift.max(m, xp[base + k * inner]) }
                var total: Float = 0
                for k in 0..<n { total += Foundation.exp(xp[base + k * inner] - m) }
                let shift = m + Foundation.log(total)
                for k in 0..<n { yp[base + k * inner] = xp[base + k * inner] - shift }
            }
        } }
        let y = out
        return Tensor.record(out, shape: shape, inputs: [self], op: "logSoftmax") { g in
            var dx = [Float](repeating: 0, count: y.count)
            y.withUnsafeBufferPointer { yp in g.withUnsafeBufferPointer { gp in dx.withUnsafeMutableBufferPointer { dp in
                Tensor.forEachLine(outer: outer, n: n, inner: inner) { base in
                    var s: Float = 0
                    for k in 0..<n { s += gp[base + k * inner] }
                    for k in 0..<n { let i = base + k * inner; dp[i] = gp[i] - Foundation.exp(yp[i]) * s }
                }
            } } }
            return [dx]
        }
    }

    /// (outer, n, inner) such that element (o, k, i) along `axis` sits at o·n·inner + k·inner + i.
    func softmaxLayout(_ axis: Int) -> (Int, Int, Int) {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "softmax: axis \(axis) out of range for shape \(shape)")
        return (shape[..<a].product, shape[a], shape[(a + 1)...].product)
    }

    /// Calls `body(base)` for every line along the axis (base = o·n·inner + i), in parallel
    /// over lines; each line is handled by one thread, so results do not depend on threads.
    static func forEachLine(outer: Int, n: Int, inner: Int, _ body: (Int) -> Void) {
        Parallel.forRanges(outer * inner, grain: Swift.max(1, 16384 / Swift.max(1, n))) { lines in
            for line in lines { body((line / inner) * n * inner + line % inner) }
        }
    }
}
