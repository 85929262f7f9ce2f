import Foundation

// MARK: - Elementwise functions
//
// Each function states y = f(x) and its derivative dy/dx, which the backward multiplies
// by the incoming gradient (the chain rule).

extension Tensor {
    /// Applies y = f(x) elementwise; `derivative(x, y)` is dy/dx.
    @inline(__always)
    public func map(_ op: String, _ f: (Float) -> Float,
                    _ derivative: @escaping (Float, Float) -> Float) -> Tensor {
        if count == 0 { return Tensor([], shape: shape) }
        var out = uninitializedFloats(count)            // every element written below
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                let (xp, yp) = (x.baseAddress!, y.baseAddress!)
                Parallel.forRanges(y.count, grain: elementwiseGrain) { r in
                    for i in r { yp[i] = f(xp[i]) }
                }
            }
        }
        let x = data
        return Tensor.record(out, shape: shape, inputs: [self], op: op) { g in
            var gx = uninitializedFloats(g.count)       // every element written below
            x.withUnsafeBufferPointer { xb in out.withUnsafeBufferPointer { ob in g.withUnsafeBufferPointer { gb in
                gx.withUnsafeMutableBufferPointer { db in
                    let (xp, yp, gp, dp) = (xb.baseAddress!, ob.baseAddress!, gb.baseAddress!, db.baseAddress!)
                    Parallel.forRanges(db.count, grain: elementwiseGrain) { r in
                        for i in r { dp[i] = gp[i] * derivative(xp[i], yp[i]) }
                    }
                } } } }
            return [gx]
        }
    }

    /// y = eˣ, dy/dx = y.
    public func exp() -> Tensor { map("exp", { Foundation.exp($0) }, { _, y in y }) }
    /// y = ln x, dy/dx = 1/x.
    public func log() -> Tensor { map("log", { Foundation.log($0) }, { x, _ in 1 / x }) }
    /// y = √x, dy/dx = 1/(2y).
    public func sqrt() -> Tensor { map("sqrt", { $0.squareRoot() }, { _, y in 0.5 / y }) }
    /// y = 1/√x, dy/dx = −y³/2.
    public func rsqrt() -> Tensor { map("rsqrt", { 1 / $0.squareRoot() }, { _, y in -0.5 * y * y * y }) }
    /// y = sin x, dy/dx = cos x.
    public func sin() -> Tensor { map("sin", { Foundation.sin($0) }, { x, _ in Foundation.cos(x) }) }
    /// y = cos x, dy/dx = −sin x.
    public func cos() -> Tensor { map("cos", { Foundation.cos($0) }, { x, _ in -Foundation.sin(x) }) }
    /// y = tanh x, dy/dx = 1 − y².
    public func tanh() -> Tensor { map("tanh", { Foundation.tanh($0) }, { _, y in 1 - y * y }) }
    /// y = x², dy/dx = 2x.
    public func square() -> Tensor { map("square", { $0 * $0 }, { x, _ in 2 * x }) }
    /// y = |x|, dy/dx = sign x (0 at 0).
    public func abs() -> Tensor { map("abs", { Swift.abs($0) }, { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    /// y = xᵖ, dy/dx = p·xᵖ⁻¹.
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return square() }
        return map("pow", { Foundation.pow($0, p) }, { x, _ in p * Foundation.pow(x, p - 1) })
    }
    /// y = min(max(x, low), high); the gradient passes only inside (low, high), like torch.clamp.
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        map("clamp", { Swift.min(Swift.max($0, low), high) }, { x, _ in x >= low && x <= high ? 1 : 0 })
    }

    // MARK: Activations

    /// ReLU(x) = max(0, x).
    public func relu() -> Tensor { map("relu", { Swift.max(0, $0) }, { x, _ in x > 0 ? 1 : 0 }) }
    /// σ(x) = 1 / (1 + e⁻ˣ), dσ/dx = σ(1 − σ).
    public func sigmoid() -> Tensor { map("sigmoid", { 1 / (1 + Foundation.exp(-$0)) }, { _, y in y * (1 - y) }) }
    /// SiLU(x) = x·σ(x) (a.k.a. swish), d/dx = σ(x)(1 + x(1 − σ(x))).
    public func silu() -> Tensor { activation(.silu, "silu") }
    /// GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2)), the exact form of torch.nn.GELU();
    /// d/dx = Φ(x) + x·φ(x).
    /// (A scalar loop over libm's `erff`: it runs in the Annotated U-Net's time MLP, on a few
    /// thousand numbers per step, and a vector erf would change the committed outputs' bits.)
    public func gelu() -> Tensor {
        map("gelu", { 0.5 * $0 * (1 + Foundation.erf($0 * 0.70710678)) }, { x, _ in
            0.5 * (1 + Foundation.erf(x * 0.70710678)) + x * 0.39894228 * Foundation.exp(-0.5 * x * x)
        })
    }
    /// GELU in its tanh form (Hendrycks & Gimpel 2016): GELU(x) ≈ ½x(1 + tanh u),
    /// u = √(2/π)(x + 0.044715x³) — `torch.nn.GELU(approximate='tanh')`, and MindSpore's
    /// `nn.GELU()` (approximate=True is its default). It differs from `gelu()` by < 1e-3.
    /// d/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
    public func geluTanh() -> Tensor { activation(.geluTanh, "gelu_tanh") }

    /// SiLU and GELU-tanh, 16 lanes at a time (Kernels/ActivationKernels.swift: they run ~45
    /// times per U-Net step, where a libm call per element cost up to a fifth of the step).
    func activation(_ f: ActivationKernels.Function, _ op: String) -> Tensor {
        if count == 0 { return Tensor([], shape: shape) }
        var out = uninitializedFloats(count)            // every element written by the kernel
        data.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { y in
            ActivationKernels.forward(f, x.baseAddress!, y.baseAddress!, count)
        } }
        let x = data
        return Tensor.record(out, shape: shape, inputs: [self], op: op) { g in
            var gx = uninitializedFloats(g.count)       // every element written by the kernel
            x.withUnsafeBufferPointer { xb in g.withUnsafeBufferPointer { gb in gx.withUnsafeMutableBufferPointer { db in
                ActivationKernels.backward(f, xb.baseAddress!, gb.baseAddress!, db.baseAddress!, g.count)
            } } }
            return [gx]
        }
    }
}
