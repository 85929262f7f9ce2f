/// The loops behind `a + b`, `a − b`, `a · b` (with broadcasting) and `a + s`, `a · s`.
///
/// The readable version is `Tensor.broadcastMap(a, b, op:, f)` in Ops/Elementwise.swift: one
/// call of the closure `f` per element. Inside a parallel loop the compiler cannot inline that
/// closure, so every element costs an indirect call and nothing is vectorised. Here the
/// operation is a value switched on once per run, and each run is a SIMD loop. The result is
/// bit-identical: one rounding per element either way (ElementwiseKernelTests holds the two
/// together, including broadcast shapes).
public enum BinaryArithmetic: Sendable {
    case add, sub, mul

    @inline(__always) func apply(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: x + y
        case .sub: x - y
        case .mul: x * y
        }
    }

    @inline(__always) func apply(_ x: SIMD16<Float>, _ y: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .add: x + y
        case .sub: x - y
        case .mul: x * y
        }
    }
}

enum ElementwiseKernels {
    /// z[i] = x[i·sx] ∘ y[i·sy] for i < n. Strides 1 and 0 (a broadcast value) run 16 lanes at a time.
    @inline(__always)
    static func binary(_ op: BinaryArithmetic, _ x: UnsafePointer<Float>, _ sx: Int,
                       _ y: UnsafePointer<Float>, _ sy: Int, _ z: UnsafeMutablePointer<Float>, _ n: Int) {
        switch (sx, sy) {
        case (1, 1):
            switch op {       // one loop per operation, so each is a plain vector loop
            case .add: run(x, y, z, n, .add)
            case .sub: run(x, y, z, n, .sub)
            case .mul: run(x, y, z, n, .mul)
            }
        case (1, 0):
            switch op {
            case .add: runScalarRight(x, y.pointee, z, n, .add)
            case .sub: runScalarRight(x, y.pointee, z, n, .sub)
            case .mul: runScalarRight(x, y.pointee, z, n, .mul)
            }
        case (0, 1):
            switch op {
            case .add: runScalarLeft(x.pointee, y, z, n, .add)
            case .sub: runScalarLeft(x.pointee, y, z, n, .sub)
            case .mul: runScalarLeft(x.pointee, y, z, n, .mul)
            }
        default:
            for i in 0..<n { z[i] = op.apply(x[i * sx], y[i * sy]) }
        }
    }

    @inline(__always)
    private static func run(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                            _ n: Int, _ op: BinaryArithmetic) {
        let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y), rz = UnsafeMutableRawPointer(z)
        var i = 0
        while i + 16 <= n {
            let v = op.apply(rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                             ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            rz.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { z[i] = op.apply(x[i], y[i]); i += 1 }
    }

    @inline(__always)
    private static func runScalarRight(_ x: UnsafePointer<Float>, _ s: Float, _ z: UnsafeMutablePointer<Float>,
                                       _ n: Int, _ op: BinaryArithmetic) {
        let rx = UnsafeRawPointer(x), rz = UnsafeMutableRawPointer(z), sv = SIMD16<Float>(repeating: s)
        var i = 0
        while i + 16 <= n {
            let v = op.apply(rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self), sv)
            rz.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { z[i] = op.apply(x[i], s); i += 1 }
    }

    @inline(__always)
    private static func runScalarLeft(_ s: Float, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                                      _ n: Int, _ op: BinaryArithmetic) {
        let ry = UnsafeRawPointer(y), rz = UnsafeMutableRawPointer(z), sv = SIMD16<Float>(repeating: s)
        var i = 0
        while i + 16 <= n {
            let v = op.apply(sv, ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            rz.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { z[i] = op.apply(s, y[i]); i += 1 }
    }

    /// The broadcast of `a` and `b` under `op`, as `Tensor.broadcastMap` computes it. Axes are
    /// first merged where both operands step through them contiguously (a `[B, C, 1, 1]` scale
    /// on a `[B, C, H, W]` map becomes runs of H·W), then each run is one SIMD loop; large
    /// outputs are split between the threads by runs, so the thread count changes no bit.
    static func broadcast(_ op: BinaryArithmetic, _ a: Tensor, _ b: Tensor, name: String) -> ([Float], [Int]) {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape, op: name)
        let count = shape.product
        if count == 0 { return ([], shape) }
        var out = uninitializedFloats(count)              // every element written below
        let (dims, sa, sb) = coalesced(shape, broadcastStrides(a.shape, to: shape), broadcastStrides(b.shape, to: shape))
        a.data.withUnsafeBufferPointer { ap in b.data.withUnsafeBufferPointer { bp in
            out.withUnsafeMutableBufferPointer { zp in
                let (x, y, z) = (ap.baseAddress!, bp.baseAddress!, zp.baseAddress!)
                if dims.count == 1 {                      // one run: split it between the threads
                    Parallel.forRanges(count, grain: elementwiseGrain) { r in
                        binary(op, x + r.lowerBound * sa[0], sa[0], y + r.lowerBound * sb[0], sb[0], z + r.lowerBound, r.count)
                    }
                } else {
                    forEachBroadcastRunInParallel(dims, sa, sb) { o, ia, ib, run, da, db in
                        binary(op, x + ia, da, y + ib, db, z + o, run)
                    }
                }
            } } }
        return (out, shape)
    }

    /// z[i] = x[i] ∘ s for i < n, split between the threads when large.
    static func scalar(_ op: BinaryArithmetic, _ x: [Float], _ s: Float) -> [Float] {
        if x.isEmpty { return [] }
        var out = uninitializedFloats(x.count)            // every element written below
        x.withUnsafeBufferPointer { xp in
            withUnsafePointer(to: s) { sp in
                out.withUnsafeMutableBufferPointer { zp in
                    let (xb, zb) = (xp.baseAddress!, zp.baseAddress!)
                    Parallel.forRanges(zp.count, grain: elementwiseGrain) { r in
                        binary(op, xb + r.lowerBound, 1, sp, 0, zb + r.lowerBound, r.count)
                    }
                }
            }
        }
        return out
    }

    /// Merges neighbouring axes that both operands traverse as one (stride[i] = stride[i+1] ·
    /// extent[i+1] for each, which includes two broadcast axes, stride 0), and drops extent-1 axes.
    /// The visiting order of the elements is unchanged.
    static func coalesced(_ shape: [Int], _ sa: [Int], _ sb: [Int]) -> (shape: [Int], sa: [Int], sb: [Int]) {
        var dims: [Int] = [], a: [Int] = [], b: [Int] = []
        for i in shape.indices where shape[i] != 1 {
            if let last = dims.last, a.last! == sa[i] * shape[i], b.last! == sb[i] * shape[i] {
                dims[dims.count - 1] = last * shape[i]
                a[a.count - 1] = sa[i]; b[b.count - 1] = sb[i]
            } else {
                dims.append(shape[i]); a.append(sa[i]); b.append(sb[i])
            }
        }
        if dims.isEmpty { return ([1], [0], [0]) }
        return (dims, a, b)
    }
}
