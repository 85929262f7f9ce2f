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
}
