/// SiLU and GELU in its tanh form, forward and backward, 16 lanes at a time with the vector
/// `exp` of VectorKernels (no libm call per element).
///
///     SiLU(x)      = x·σ(x),                       σ(z) = 1 / (1 + e⁻ᶻ)
///     GELU-tanh(x) = ½x(1 + tanh u) = x·σ(2u),     u = √(2/π)(x + 0.044715x³)
///
/// (½(1 + tanh u) = σ(2u), so the tanh form is SiLU's formula at 2u.) The U-Net applies SiLU
/// about 45 times per step to tensors of up to 2.8 M floats, and the MindSpore port its GELU
/// as often: as scalar loops with one libm `expf` or `tanhf` per element they cost ~0.17 s
/// per step (SiLU) and a fifth of the MindSpore port's step (GELU-tanh).
/// Every lane does the same arithmetic, so the result does not depend on how the range is
/// split among threads, nor on the machine (no libm, whose last bits differ between systems).
/// The scalar definitions are the doc comments of `Tensor.silu` and `geluTanh`; the tests hold
/// the kernels to them, computed in double precision.
enum ActivationKernels {
    /// σ(x) for 16 lanes.
    @inline(__always) static func sigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> {
        1 / (1 + VectorKernels.exp(-x))
    }

    /// 2u = 2·√(2/π)(x + 0.044715x³), the argument of σ in GELU-tanh.
    @inline(__always) static func twoU(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let cubic: SIMD16<Float> = 0.044_715 * x * x * x
        return 2 * 0.797_884_56 * (x + cubic)
    }

    /// Applies `body` to the 16-lane blocks of 0..<n split among the threads; the last
    /// partial block is zero-padded on load and only its first lanes are stored.
    @inline(__always)
    static func forBlocks(_ n: Int, _ body: (Int, Int) -> Void) {
        let blocks = (n + 15) / 16
        Parallel.forRanges(blocks, grain: elementwiseGrain / 16) { range in
            for block in range { body(block * 16, Swift.min(16, n - block * 16)) }
        }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ i: Int, _ lanes: Int) -> SIMD16<Float> {
        if lanes == 16 { return UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) }
        var v = SIMD16<Float>(repeating: 0)
        for l in 0..<lanes { v[l] = p[i + l] }
        return v
    }

    @inline(__always) static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ lanes: Int) {
        if lanes == 16 { UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self); return }
        for l in 0..<lanes { p[i + l] = v[l] }
    }

    /// The activations these kernels compute.
    enum Function {
        case silu, geluTanh

        /// f(x) for 16 lanes.
        @inline(__always) func value(_ v: SIMD16<Float>) -> SIMD16<Float> {
            switch self {
            case .silu: return v * sigmoid(v)
            case .geluTanh: return v * sigmoid(twoU(v))
            }
        }

        /// f′(x) for 16 lanes: SiLU σ(1 + x(1 − σ)); GELU-tanh s + x·s(1 − s)·2u′ with s = σ(2u)
        /// and 2u′ = 2√(2/π)(1 + 3·0.044715x²).
        @inline(__always) func derivative(_ v: SIMD16<Float>) -> SIMD16<Float> {
            switch self {
            case .silu:
                let s = sigmoid(v)
                return s * (1 + v * (1 - s))
            case .geluTanh:
                // s(1 − s) as e·s² with e = e^(−2u) (1 − s = e·s): no cancellation where s ≈ 1.
                let e = VectorKernels.exp(-twoU(v)), s = 1 / (1 + e)
                let twoUPrime: SIMD16<Float> = 2 * 0.797_884_56 * (1 + 3 * 0.044_715 * v * v)
                return s + v * (e * s * s) * twoUPrime
            }
        }
    }

    /// y[i] = f(x[i]) for i < n.
    static func forward(_ f: Function, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch f {   // one specialised loop per function, no switch per block
        case .silu: forBlocks(n) { i, lanes in store(Function.silu.value(load(x, i, lanes)), y, i, lanes) }
        case .geluTanh: forBlocks(n) { i, lanes in store(Function.geluTanh.value(load(x, i, lanes)), y, i, lanes) }
        }
    }

    /// dx[i] = dy[i]·f′(x[i]) for i < n.
    static func backward(_ f: Function, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        switch f {
        case .silu:
            forBlocks(n) { i, lanes in
                store(load(dy, i, lanes) * Function.silu.derivative(load(x, i, lanes)), dx, i, lanes)
            }
        case .geluTanh:
            forBlocks(n) { i, lanes in
                store(load(dy, i, lanes) * Function.geluTanh.derivative(load(x, i, lanes)), dx, i, lanes)
            }
        }
    }
}
