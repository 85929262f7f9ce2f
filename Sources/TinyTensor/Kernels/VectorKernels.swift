/// Small SIMD loops shared by the convolution and normalisation kernels.
///
/// Float addition is not associative, so the compiler will not split a running sum into
/// vector lanes on its own. These loops do it explicitly with 16 lanes (one AVX-512
/// register) and add the lanes at the end: the order depends only on n, never on threads.
enum VectorKernels {
    /// Σ p[i] for i < n.
    @inline(__always) static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 16 <= n {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        var total = acc.sum()
        while i < n { total += p[i]; i += 1 }
        return total
    }

    /// Σ p[i]·q[i] for i < n.
    @inline(__always) static func dot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
        while i + 16 <= n {
            acc.addProduct(rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                           rq.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            i += 16
        }
        var total = acc.sum()
        while i < n { total += p[i] * q[i]; i += 1 }
        return total
    }

    /// Σ p[i]·(q[i] − c) for i < n.
    @inline(__always) static func dot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int,
                                      centeredAt c: Float) -> Float {
        var acc = SIMD16<Float>()
        let cv = SIMD16<Float>(repeating: c)
        var i = 0
        let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
        while i + 16 <= n {
            acc.addProduct(rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                           rq.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - cv)
            i += 16
        }
        var total = acc.sum()
        while i < n { total += p[i] * (q[i] - c); i += 1 }
        return total
    }

    /// Σ (p[i] − c)² for i < n.
    @inline(__always) static func sumSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, from c: Float) -> Float {
        var acc = SIMD16<Float>()
        let cv = SIMD16<Float>(repeating: c)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 16 <= n {
            let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - cv
            acc.addProduct(d, d)
            i += 16
        }
        var total = acc.sum()
        while i < n { let d = p[i] - c; total += d * d; i += 1 }
        return total
    }

    /// out[i] = a·p[i] + b for i < n (out may be p).
    @inline(__always) static func affine(_ p: UnsafePointer<Float>, _ n: Int, scale a: Float, shift b: Float,
                                         into out: UnsafeMutablePointer<Float>) {
        for i in 0..<n { out[i] = a * p[i] + b }
    }

    /// eˣ for 16 lanes at once (Cephes' expf, about 1 ulp): with n = round(x / ln 2) and
    /// r = x − n·ln 2 ∈ [−ln2/2, ln2/2], eˣ = 2ⁿ · eʳ, where eʳ is a degree-7 polynomial and
    /// 2ⁿ is built directly in the exponent bits. Inputs below −87.3 give 0 (above 88.3, +∞ is
    /// not needed here: softmax only exponentiates x − max ≤ 0).
    @inline(__always) static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        // (mask-and-blend: the generic `clamped`/`pointwiseMax` compile to per-lane loops)
        let clamped = x.replacing(with: -87.3, where: x .< -87.3).replacing(with: 88.3, where: x .> 88.3)
        // Round x·log₂e to the nearest integer with the 1.5·2²³ trick: the integer lands in the low mantissa bits.
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 0.166_666_655
        p = p * r + 0.500_000_01
        let er = p * (r * r) + r + 1
        let bits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000   // n as an integer
        let twoN = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD16<Float>.self)
        return er * twoN
    }

    /// dst[i] = exp(src[i] − shift) for i < n; returns Σ dst[i] (src and dst may be the same).
    @inline(__always) static func expShifted(_ src: UnsafePointer<Float>, _ n: Int, shift: Float,
                                             into dst: UnsafeMutablePointer<Float>) -> Float {
        let sv = SIMD16<Float>(repeating: shift)
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= n {
            let e = exp(UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self) - sv)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: e, as: SIMD16<Float>.self)
            acc += e
            i += 16
        }
        if i < n {
            // The tail: exponentiate a zero-padded vector and keep only its first n − i lanes.
            var v = SIMD16<Float>(repeating: 0)
            for l in 0..<(n - i) { v[l] = src[i + l] - shift }
            let e = exp(v)
            for l in 0..<(n - i) { dst[i + l] = e[l]; acc[l] += e[l] }
        }
        return acc.sum()
    }

    /// max of p[i] for i < n (n ≥ 1).
    @inline(__always) static func maximum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var i = 0
        var m = -Float.infinity
        if n >= 16 {
            var acc = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
            i = 16
            while i + 16 <= n {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
                acc.replace(with: v, where: v .> acc)
                i += 16
            }
            m = largestLane(acc)
        }
        while i < n { m = Swift.max(m, p[i]); i += 1 }
        return m
    }

    /// The largest of the 16 lanes, halving the vector three times (`SIMD.max()` compares the
    /// lanes one by one, with a branch each: in perf, a hot spot of softmax over short rows).
    /// The same value as `v.max()` except for the sign of a zero maximum and which NaN wins,
    /// neither of which changes a softmax: x − (±0) is the same number, and a NaN anywhere in a
    /// line makes the whole line NaN either way.
    @inline(__always) static func largestLane(_ v: SIMD16<Float>) -> Float {
        var m8 = v.lowHalf
        m8.replace(with: v.highHalf, where: v.highHalf .> m8)
        var m4 = m8.lowHalf
        m4.replace(with: m8.highHalf, where: m8.highHalf .> m4)
        var m2 = m4.lowHalf
        m2.replace(with: m4.highHalf, where: m4.highHalf .> m2)
        return m2[1] > m2[0] ? m2[1] : m2[0]
    }

    // MARK: Lane-wise loops (softmax along a strided axis)
    //
    // Element l of each row belongs to line l; each loop does, lane by lane, exactly what one
    // scalar loop per line would (the same operations in the same order), 16 lanes at a time.

    /// m[l] = Swift.max(m[l], row[l]) for l < n (row[l] when row[l] ≥ m[l]).
    @inline(__always) static func maximumInPlace(_ m: UnsafeMutablePointer<Float>, _ row: UnsafePointer<Float>, _ n: Int) {
        var l = 0
        while l + 16 <= n {
            var acc = UnsafeRawPointer(m + l).loadUnaligned(as: SIMD16<Float>.self)
            let v = UnsafeRawPointer(row + l).loadUnaligned(as: SIMD16<Float>.self)
            acc.replace(with: v, where: v .>= acc)
            UnsafeMutableRawPointer(m + l).storeBytes(of: acc, as: SIMD16<Float>.self)
            l += 16
        }
        while l < n { m[l] = Swift.max(m[l], row[l]); l += 1 }
    }

    /// dst[l] = row[l] − m[l] for l < n.
    @inline(__always) static func subtract(_ row: UnsafePointer<Float>, _ m: UnsafePointer<Float>,
                                           into dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var l = 0
        while l + 16 <= n {
            let v = UnsafeRawPointer(row + l).loadUnaligned(as: SIMD16<Float>.self)
                - UnsafeRawPointer(m + l).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(dst + l).storeBytes(of: v, as: SIMD16<Float>.self)
            l += 16
        }
        while l < n { dst[l] = row[l] - m[l]; l += 1 }
    }

    /// total[l] += x[l] for l < n.
    @inline(__always) static func addInPlace(_ total: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        var l = 0
        while l + 16 <= n {
            let v = UnsafeRawPointer(total + l).loadUnaligned(as: SIMD16<Float>.self)
                + UnsafeRawPointer(x + l).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(total + l).storeBytes(of: v, as: SIMD16<Float>.self)
            l += 16
        }
        while l < n { total[l] += x[l]; l += 1 }
    }

    /// x[l] /= d[l] for l < n.
    @inline(__always) static func divideInPlace(_ x: UnsafeMutablePointer<Float>, by d: UnsafePointer<Float>, _ n: Int) {
        var l = 0
        while l + 16 <= n {
            let v = UnsafeRawPointer(x + l).loadUnaligned(as: SIMD16<Float>.self)
                / UnsafeRawPointer(d + l).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(x + l).storeBytes(of: v, as: SIMD16<Float>.self)
            l += 16
        }
        while l < n { x[l] /= d[l]; l += 1 }
    }
}
