/// NumPy/PyTorch broadcasting: shapes are aligned at the right; an axis of extent 1 (or a
/// missing axis) stretches to the other's extent.
///
///     [8, 1, 6, 1] with [7, 1, 5] -> [8, 7, 6, 5]
public func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let x = i < n - a.count ? 1 : a[i - (n - a.count)]
        let y = i < n - b.count ? 1 : b[i - (n - b.count)]
        precondition(x == y || x == 1 || y == 1,
                     "\(op): shapes \(a) and \(b) cannot be broadcast together (axis \(i - n) has \(x) vs \(y))")
        out[i] = x == 1 ? y : x
    }
    return out
}

/// Row-major strides of `shape` seen inside `outShape`: 0 on broadcast axes.
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let n = outShape.count
    var strides = [Int](repeating: 0, count: n)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let oi = i + n - shape.count
        strides[oi] = shape[i] == 1 && outShape[oi] != 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

/// Visits the output of a broadcast op in runs along the last axis:
/// `body(outOffset, offsetA, offsetB, runLength, strideA, strideB)`, for the runs `outer`
/// (all of them by default; run o starts at output offset o · runLength).
@inline(__always)
func forEachBroadcastRun(_ outShape: [Int], _ sa: [Int], _ sb: [Int], outer: Range<Int>? = nil,
                         _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let n = outShape.count
    if n == 0 { body(0, 0, 0, 1, 0, 0); return }
    let run = outShape[n - 1]
    if run == 0 { return }
    let runs = outer ?? 0 ..< outShape.product / run
    // The odometer's starting position: run index → indices of axes 0..<n-1.
    var idx = [Int](repeating: 0, count: n)
    var oa = 0, ob = 0, rest = runs.lowerBound
    for ax in stride(from: n - 2, through: 0, by: -1) {
        idx[ax] = rest % outShape[ax]
        rest /= outShape[ax]
        oa += idx[ax] * sa[ax]; ob += idx[ax] * sb[ax]
    }
    for o in runs {
        body(o * run, oa, ob, run, sa[n - 1], sb[n - 1])
        // Odometer increment over axes 0..<n-1.
        var ax = n - 2
        while ax >= 0 {
            idx[ax] += 1
            oa += sa[ax]; ob += sb[ax]
            if idx[ax] < outShape[ax] { break }
            oa -= sa[ax] * idx[ax]; ob -= sb[ax] * idx[ax]
            idx[ax] = 0
            ax -= 1
        }
    }
}

/// `forEachBroadcastRun` over all runs, split between the threads when the output is large
/// (`elementwiseGrain` elements per thread). For ops where every output element is written by
/// one run only, so the split changes no bit.
func forEachBroadcastRunInParallel(_ outShape: [Int], _ sa: [Int], _ sb: [Int],
                                   _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    guard let run = outShape.last, run > 0 else {
        forEachBroadcastRun(outShape, sa, sb, body)
        return
    }
    let runs = outShape.product / run
    Parallel.forRanges(runs, grain: max(1, elementwiseGrain / run)) { range in
        forEachBroadcastRun(outShape, sa, sb, outer: range, body)
    }
}

/// Sums a gradient of shape `from` down to the (broadcastable) shape `to`: the adjoint
/// of broadcasting. Axes that were stretched are summed.
public func sumToShape(_ g: [Float], from: [Int], to: [Int]) -> [Float] {
    if from == to { return g }
    var out = [Float](repeating: 0, count: to.product)
    let st = broadcastStrides(to, to: from)
    let zero = [Int](repeating: 0, count: from.count)
    g.withUnsafeBufferPointer { gp in
        out.withUnsafeMutableBufferPointer { yp in
            forEachBroadcastRun(from, st, zero) { o, a, _, run, s, _ in
                if s == 0 {
                    var acc: Float = 0
                    for j in 0..<run { acc += gp[o + j] }
                    yp[a] += acc
                } else {
                    for j in 0..<run { yp[a + j * s] += gp[o + j] }
                }
            }
        }
    }
    return out
}
