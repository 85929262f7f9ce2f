import Foundation

// MARK: - Binary ops with broadcasting

/// Elementwise loops go parallel above this many elements per thread.
let elementwiseGrain = 1 << 16

extension Tensor {
    /// Applies `f` elementwise over the broadcast of `a` and `b`.
    @inline(__always)
    static func broadcastMap(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> ([Float], [Int]) {
        if a.shape == b.shape {
            if a.count == 0 { return ([], a.shape) }
            var out = uninitializedFloats(a.count)          // every element written below
            a.data.withUnsafeBufferPointer { ap in b.data.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { zp in
                    let (x, y, z) = (ap.baseAddress!, bp.baseAddress!, zp.baseAddress!)
                    Parallel.forRanges(zp.count, grain: elementwiseGrain) { r in
                        for i in r { z[i] = f(x[i], y[i]) }
                    }
                } } }
            return (out, a.shape)
        }
        let shape = broadcastShape(a.shape, b.shape, op: op)
        if shape.product == 0 { return ([], shape) }
        var out = uninitializedFloats(shape.product)    // every element written below
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        a.data.withUnsafeBufferPointer { ap in b.data.withUnsafeBufferPointer { bp in
            out.withUnsafeMutableBufferPointer { zp in
                let (x, y, z) = (ap.baseAddress!, bp.baseAddress!, zp.baseAddress!)
                forEachBroadcastRunInParallel(shape, sa, sb) { o, ia, ib, run, da, db in
                    for j in 0..<run { z[o + j] = f(x[ia + j * da], y[ib + j * db]) }
                }
            } } }
        return (out, shape)
    }

    /// A differentiable binary op from its value `f` and partials `da` = ∂f/∂a, `db` = ∂f/∂b.
    /// Partials are evaluated on the broadcast grid, multiplied by the incoming gradient and
    /// summed back over broadcast axes (`sumToShape`).
    static func binary(_ a: Tensor, _ b: Tensor, op: String,
                       _ f: @escaping (Float, Float) -> Float,
                       da: @escaping (Float, Float) -> Float,
                       db: @escaping (Float, Float) -> Float) -> Tensor {
        let (out, shape) = broadcastMap(a, b, op: op, f)
        let (aValues, bValues) = (a.detached(), b.detached())
        return record(out, shape: shape, inputs: [a, b], op: op) { g in
            var pa = broadcastMap(aValues, bValues, op: op, da).0
            var pb = broadcastMap(aValues, bValues, op: op, db).0
            for i in 0..<g.count { pa[i] *= g[i]; pb[i] *= g[i] }
            return [sumToShape(pa, from: shape, to: aValues.shape), sumToShape(pb, from: shape, to: bValues.shape)]
        }
    }

    // +, − and · run the same arithmetic as `broadcastMap` through SIMD loops
    // (Kernels/ElementwiseKernels.swift); the closure-per-element version is their reference.

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (out, shape) = ElementwiseKernels.broadcast(.add, a, b, name: "add")
        let (ash, bsh) = (a.shape, b.shape)
        return record(out, shape: shape, inputs: [a, b], op: "add") { g in
            [sumToShape(g, from: shape, to: ash), sumToShape(g, from: shape, to: bsh)]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (out, shape) = ElementwiseKernels.broadcast(.sub, a, b, name: "sub")
        let (ash, bsh) = (a.shape, b.shape)
        return record(out, shape: shape, inputs: [a, b], op: "sub") { g in
            [sumToShape(g, from: shape, to: ash), sumToShape(g.map { -$0 }, from: shape, to: bsh)]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (out, shape) = ElementwiseKernels.broadcast(.mul, a, b, name: "mul")
        let (ad, bd, ash, bsh) = (a.data, b.data, a.shape, b.shape)
        return record(out, shape: shape, inputs: [a, b], op: "mul") { g in
            let gT = Tensor(g, shape: shape)
            let ga = ElementwiseKernels.broadcast(.mul, gT, Tensor(bd, shape: bsh), name: "mul").0
            let gb = ElementwiseKernels.broadcast(.mul, gT, Tensor(ad, shape: ash), name: "mul").0
            return [sumToShape(ga, from: shape, to: ash), sumToShape(gb, from: shape, to: bsh)]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary(a, b, op: "div", /, da: { _, y in 1 / y }, db: { x, y in -x / (y * y) })
    }

    /// Elementwise maximum; the gradient goes to `a` where a ≥ b.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(a, b, op: "maximum", { Swift.max($0, $1) }, da: { x, y in x >= y ? 1 : 0 }, db: { x, y in x >= y ? 0 : 1 })
    }

    /// Elementwise minimum; the gradient goes to `a` where a ≤ b.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(a, b, op: "minimum", { Swift.min($0, $1) }, da: { x, y in x <= y ? 1 : 0 }, db: { x, y in x <= y ? 0 : 1 })
    }

    /// aᵇ elementwise (a > 0 where b is not an integer).
    public static func pow(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary(a, b, op: "pow", { Foundation.pow($0, $1) },
               da: { x, y in y * Foundation.pow(x, y - 1) },
               db: { x, y in x > 0 ? Foundation.pow(x, y) * Foundation.log(x) : 0 })
    }
}

// MARK: - Tensor–scalar arithmetic

extension Tensor {
    public static func + (a: Tensor, s: Float) -> Tensor {
        record(ElementwiseKernels.scalar(.add, a.data, s), shape: a.shape, inputs: [a], op: "add_scalar") { g in [g] }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.map("rsub_scalar", { s - $0 }, { _, _ in -1 }) }
    public static func * (a: Tensor, s: Float) -> Tensor {
        record(ElementwiseKernels.scalar(.mul, a.data, s), shape: a.shape, inputs: [a], op: "mul_scalar") { g in
            [ElementwiseKernels.scalar(.mul, g, s)]
        }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func / (s: Float, a: Tensor) -> Tensor { a.map("rdiv_scalar", { s / $0 }, { x, _ in -s / (x * x) }) }
    public static prefix func - (a: Tensor) -> Tensor { a.map("neg", { -$0 }, { _, _ in -1 }) }
}

// MARK: - Comparisons and selection (no gradient through the condition)

extension Tensor {
    /// 1 where a > b, else 0 (broadcasting). Not differentiable.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { Tensor(compare(a, b) { $0 > $1 }) }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { Tensor(compare(a, b) { $0 < $1 }) }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { Tensor(compare(a, b) { $0 >= $1 }) }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { Tensor(compare(a, b) { $0 <= $1 }) }
    public static func .== (a: Tensor, b: Tensor) -> Tensor { Tensor(compare(a, b) { $0 == $1 }) }

    private convenience init(_ r: ([Float], [Int])) { self.init(r.0, shape: r.1) }
    private static func compare(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Bool) -> ([Float], [Int]) {
        broadcastMap(a, b, op: "compare") { f($0, $1) ? 1 : 0 }
    }

    /// `condition ? a : b` elementwise (condition nonzero = true), broadcasting all three.
    /// The gradient flows to `a` where the condition holds and to `b` elsewhere.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(broadcastShape(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let c = condition.detached().broadcast(to: shape).data
        let av = a.detached().broadcast(to: shape).data, bv = b.detached().broadcast(to: shape).data
        var out = bv
        for i in 0..<out.count where c[i] != 0 { out[i] = av[i] }
        let (ash, bsh) = (a.shape, b.shape)
        return record(out, shape: shape, inputs: [a, b], op: "where") { g in
            var ga = g, gb = g
            for i in 0..<g.count { if c[i] != 0 { gb[i] = 0 } else { ga[i] = 0 } }
            return [sumToShape(ga, from: shape, to: ash), sumToShape(gb, from: shape, to: bsh)]
        }
    }
}
