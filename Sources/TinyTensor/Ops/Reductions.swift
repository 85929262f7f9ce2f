// MARK: - Reductions

extension Tensor {
    /// The sum of all elements, a scalar.
    public func sum() -> Tensor {
        var s: Double = 0
        for v in data { s += Double(v) }
        let n = count
        return Tensor.record([Float(s)], shape: [], inputs: [self], op: "sum") { g in
            [[Float](repeating: g[0], count: n)]
        }
    }

    /// Sums over `axes`; keeps them with extent 1 when `keepDims`.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let axs = Set(axes.map { normalizedAxis($0, "sum") }).sorted(by: >)
        var y = self
        for a in axs { y = y.sumAxis(a) }          // keeps each axis with extent 1
        if keepDims { return y }
        return y.reshape(shape.enumerated().filter { !axs.contains($0.offset) }.map(\.element))
    }
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Σ over one axis, keeping it with extent 1: y[o, 0, i] = Σₙ x[o, n, i].
    func sumAxis(_ a: Int) -> Tensor {
        let (outer, n, inner) = split3(a)
        var outShape = shape; outShape[a] = 1
        var out = [Float](repeating: 0, count: outer * inner)
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for o in 0..<outer {
                    for k in 0..<n {
                        let src = (o * n + k) * inner
                        for i in 0..<inner { y[o * inner + i] += x[src + i] }
                    }
                }
            }
        }
        return Tensor.record(out, shape: outShape, inputs: [self], op: "sum") { g in
            var gx = [Float](repeating: 0, count: outer * n * inner)
            for o in 0..<outer { for k in 0..<n { for i in 0..<inner { gx[(o * n + k) * inner + i] = g[o * inner + i] } } }
            return [gx]
        }
    }

    /// The mean of all elements, a scalar.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// The mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = axes.map { shape[normalizedAxis($0, "mean")] }.product
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// The variance over `axes`: Σ(x − x̄)² / (n − correction); correction 0 is the population
    /// variance (what normalisation layers use), 1 the unbiased sample variance (torch.var's default).
    public func variance(axes: [Int], correction: Int = 0, keepDims: Bool = false) -> Tensor {
        let n = axes.map { shape[normalizedAxis($0, "variance")] }.product
        let centred = self - mean(axes: axes, keepDims: true)
        return centred.square().sum(axes: axes, keepDims: keepDims) * (1 / Float(n - correction))
    }
    /// The variance of all elements.
    public func variance(correction: Int = 0) -> Tensor {
        variance(axes: Array(0..<rank), correction: correction)
    }

    /// The maximum over one axis; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "max")
        let (outer, n, inner) = split3(a)
        precondition(n > 0, "max: axis \(axis) of shape \(shape) is empty")
        let idx = argmax(axis: a)
        var out = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer { for i in 0..<inner { out[o * inner + i] = data[(o * n + idx[o * inner + i]) * inner + i] } }
        var outShape = shape; outShape[a] = 1
        let total = count
        let y = Tensor.record(out, shape: outShape, inputs: [self], op: "max") { g in
            var gx = [Float](repeating: 0, count: total)
            for o in 0..<outer { for i in 0..<inner { gx[(o * n + idx[o * inner + i]) * inner + i] = g[o * inner + i] } }
            return [gx]
        }
        return keepDims ? y : y.squeeze(a)
    }

    /// The maximum element, a scalar.
    public func max() -> Tensor { reshape([count]).max(axis: 0) }

    /// Positions of the maxima along `axis` (first one on ties), in the reduced shape's order.
    public func argmax(axis: Int) -> [Int] {
        let a = normalizedAxis(axis, "argmax")
        let (outer, n, inner) = split3(a)
        var out = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bv = data[o * n * inner + i]
                for k in 1..<Swift.max(n, 1) where data[(o * n + k) * inner + i] > bv {
                    bv = data[(o * n + k) * inner + i]; best = k
                }
                out[o * inner + i] = best
            }
        }
        return out
    }

    /// The cumulative product along `axis`: yₖ = Πⱼ≤ₖ xⱼ (how ᾱₜ = Πₛ≤ₜ αₛ is built).
    /// dL/dxᵢ = Σₖ≥ᵢ gₖ · Πⱼ≤ₖ, ⱼ≠ᵢ xⱼ (computed without dividing, so zeros are fine).
    public func cumprod(axis: Int = 0) -> Tensor {
        let a = normalizedAxis(axis, "cumprod")
        let (outer, n, inner) = split3(a)
        var out = data
        for o in 0..<outer { for i in 0..<inner {
            var p: Float = 1
            for k in 0..<n { let at = (o * n + k) * inner + i; p *= data[at]; out[at] = p }
        } }
        let x = data
        return Tensor.record(out, shape: shape, inputs: [self], op: "cumprod") { g in
            var gx = [Float](repeating: 0, count: x.count)
            for o in 0..<outer { for i in 0..<inner {
                let at = { (k: Int) in (o * n + k) * inner + i }
                for j in 0..<n {
                    // prefix = Π_{m<j} x_m; then for k ≥ j accumulate g_k · prefix · Π_{j<m≤k} x_m.
                    var prefix: Float = 1
                    for m in 0..<j { prefix *= x[at(m)] }
                    var run = prefix, acc: Float = 0
                    for k in j..<n {
                        if k > j { run *= x[at(k)] }
                        acc += g[at(k)] * run
                    }
                    gx[at(j)] = acc
                }
            } }
            return [gx]
        }
    }
}
