// MARK: - Matrix products

extension Tensor {
    /// The matrix product: [M, K] · [K, N] → [M, N], or batched over leading axes
    /// [..., M, K] · [..., K, N] → [..., M, N] (equal batch axes, or a 2-D right operand shared by all).
    ///
    /// `transposeSelf` / `transposeOther` multiply by the transpose of the last two axes
    /// without writing it out: `k.matmul(v, transposeOther: true)` is k·vᵀ for k `[..., d, N]` and
    /// v `[..., e, N]`, the same numbers as `k.matmul(v.transpose(-2, -1))` bit for bit, minus one
    /// copy of v (attention's products are shaped this way).
    ///
    /// Backward, with A' = op(A) and B' = op(B): dA' = dC · B'ᵀ, dB' = A'ᵀ · dC, each written in
    /// its operand's own layout (batched likewise; a shared B sums over the batch).
    ///
    /// The products run through `gemm` (Kernels/GEMM.swift), whose arguments follow BLAS:
    /// `transA`/`transB` say whether an operand is stored transposed, and `lda`, `ldb`, `ldc`
    /// ("leading dimensions") are the row strides of A, B and C in memory. `referenceMatmul`
    /// (Ops/Reference.swift) is the definition in plain loops.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        let a = self, b = other
        let (ta, tb) = (transposeSelf, transposeOther)
        precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs 2-D or batched operands, got \(a.shape) and \(b.shape)")
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1]), (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = ta ? (ac, ar) : (ar, ac)
        let (k2, n) = tb ? (bc, br) : (br, bc)
        precondition(k == k2, "matmul: inner extents differ: \(a.shape)\(ta ? "ᵀ" : "") · \(b.shape)\(tb ? "ᵀ" : "") (\(k) vs \(k2))")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(batchB.isEmpty || batchA == batchB, "matmul: batch axes differ: \(a.shape) · \(b.shape)")
        let batch = batchA.product
        let sharedB = batchB.isEmpty && batch > 1
        precondition(!sharedB || (!ta && !tb), "matmul: a shared 2-D right operand is not supported with transposes")
        let outShape = batchA + [m, n]
        var out = uninitializedFloats(outShape.product)          // gemm with β = 0 overwrites it
        Tensor.batchedGemm(batch, ta, tb, m, n, k, a.data, b.data, sharedB ? 0 : k * n, &out, beta: 0)
        let (ad, bd) = (a.data, b.data)
        return Tensor.record(out, shape: outShape, inputs: [a, b], op: "matmul") { g in
            var ga = uninitializedFloats(ad.count), gb = uninitializedFloats(bd.count)   // overwritten (β = 0)
            if ta {
                // dA[K,M] = (dC · B'ᵀ)ᵀ = B' · dCᵀ
                Tensor.batchedGemm(batch, tb, true, k, m, n, bd, g, m * n, &ga, beta: 0)
            } else {
                // dA[M,K] = dC[M,N] · B'ᵀ
                Tensor.batchedGemm(batch, false, !tb, m, k, n, g, bd, sharedB ? 0 : k * n, &ga, beta: 0)
            }
            if sharedB {
                // dB[K,N] = Σ_batch Aᵀ · dC  — one product over the stacked rows.
                ad.withUnsafeBufferPointer { ap in g.withUnsafeBufferPointer { gp in gb.withUnsafeMutableBufferPointer { bp in
                    gemm(transA: true, transB: false, m: k, n: n, k: batch * m, a: ap.baseAddress!, lda: k,
                         b: gp.baseAddress!, ldb: n, beta: 0, c: bp.baseAddress!, ldc: n)
                } } }
            } else if tb {
                // dB[N,K] = (A'ᵀ · dC)ᵀ = dCᵀ · A'
                Tensor.batchedGemm(batch, true, ta, n, k, m, g, ad, m * k, &gb, beta: 0)
            } else {
                // dB[K,N] = A'ᵀ · dC[M,N]
                Tensor.batchedGemm(batch, !ta, false, k, n, m, ad, g, m * n, &gb, beta: 0)
            }
            return [ga, gb]
        }
    }

    /// C_i = op(A_i) · op(B_i) for each batch entry i (row-major blocks, B's block stride `strideB`).
    /// A_i is the i-th block of op(A)'s size in `a`, C_i the i-th [M, N] block of `c`.
    ///
    /// Attention multiplies hundreds of small matrices (one per image and head): the batch
    /// entries are shared among the threads, each product running on one thread, so every
    /// C_i is computed the same way whatever the thread count.
    static func batchedGemm(_ batch: Int, _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ a: [Float], _ b: [Float], _ strideB: Int, _ c: inout [Float], beta: Float) {
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            let (a0, b0, c0) = (ap.baseAddress!, bp.baseAddress!, cp.baseAddress!)
            Parallel.forRanges(batch) { entries in
                for i in entries {
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                         a: a0 + i * m * k, lda: transA ? m : k,
                         b: b0 + i * strideB, ldb: transB ? k : n,
                         beta: beta, c: c0 + i * m * n, ldc: n, parallel: batch == 1)
                }
            }
        } } }
    }

    /// The affine map of a fully connected layer, y = x·Wᵀ + b, with W stored [out, in] as in
    /// PyTorch (`nn.Linear`). x: [..., in] → y: [..., out].
    ///
    /// Backward: dx = dy·W, dW = dyᵀ·x, db = Σ dy over the rows.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let inF = weight.shape[1], outF = weight.shape[0]
        precondition(weight.rank == 2 && x.shape.last == inF,
                     "linear: input \(x.shape) does not end in \(inF) features (weight \(weight.shape))")
        let rows = x.count / inF
        let outShape = Array(x.shape.dropLast()) + [outF]
        var out = [Float](repeating: 0, count: rows * outF)
        if let bias {
            precondition(bias.count == outF, "linear: bias \(bias.shape) does not match \(outF) output features")
            // Every row of y starts as the bias (the product is added with β = 1).
            bias.data.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { yp in
                guard var row = yp.baseAddress, let b = bp.baseAddress else { return }
                for _ in 0..<rows { row.update(from: b, count: outF); row += outF }
            } }
        }
        x.data.withUnsafeBufferPointer { xp in weight.data.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer { yp in
            gemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: xp.baseAddress!, lda: inF,
                 b: wp.baseAddress!, ldb: inF, beta: bias == nil ? 0 : 1, c: yp.baseAddress!, ldc: outF)
        } } }
        let (xd, wd) = (x.data, weight.data)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let needX = x.requiresGrad
        return record(out, shape: outShape, inputs: inputs, op: "linear") { g in
            var gx: [Float]? = nil
            if needX {
                var d = [Float](repeating: 0, count: rows * inF)
                g.withUnsafeBufferPointer { gp in wd.withUnsafeBufferPointer { wp in d.withUnsafeMutableBufferPointer { dp in
                    gemm(transA: false, transB: false, m: rows, n: inF, k: outF, a: gp.baseAddress!, lda: outF,
                         b: wp.baseAddress!, ldb: inF, beta: 0, c: dp.baseAddress!, ldc: inF)
                } } }
                gx = d
            }
            var gw = [Float](repeating: 0, count: outF * inF)
            g.withUnsafeBufferPointer { gp in xd.withUnsafeBufferPointer { xp in gw.withUnsafeMutableBufferPointer { wp in
                gemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: gp.baseAddress!, lda: outF,
                     b: xp.baseAddress!, ldb: inF, beta: 0, c: wp.baseAddress!, ldc: inF)
            } } }
            var grads: [[Float]?] = [gx, gw]
            if inputs.count == 3 {
                var gb = [Float](repeating: 0, count: outF)
                // db[j] = Σ_r dy[r, j], rows in order, walking dy by pointer (no index products).
                g.withUnsafeBufferPointer { gp in gb.withUnsafeMutableBufferPointer { bp in
                    guard var row = gp.baseAddress, let b = bp.baseAddress else { return }
                    for _ in 0..<rows {
                        for j in 0..<outF { b[j] += row[j] }
                        row += outF
                    }
                } }
                grads.append(gb)
            }
            return grads
        }
    }
}
