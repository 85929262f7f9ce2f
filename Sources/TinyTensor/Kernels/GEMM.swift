/// The fast matrix product C = α·op(A)·op(B) + β·C, row-major, used by every op that
/// multiplies matrices (matmul, linear layers, convolutions through im2col, attention).
///
/// Same contract as `referenceGemm`. When β == 0, C is not read (it may hold garbage).
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    // Simple row-parallel i-k-j loop; the packed SIMD kernel replaces this.
    Parallel.forRanges(m, grain: max(1, 4096 / max(1, n * k / 64 + 1))) { rows in
        for i in rows {
            let ci = c + i * ldc
            if beta == 0 { for j in 0..<n { ci[j] = 0 } } else if beta != 1 { for j in 0..<n { ci[j] *= beta } }
            for p in 0..<k {
                let av = alpha * (transA ? a[p * lda + i] : a[i * lda + p])
                if transB {
                    for j in 0..<n { ci[j] += av * b[j * ldb + p] }
                } else {
                    let bp = b + p * ldb
                    for j in 0..<n { ci[j] += av * bp[j] }
                }
            }
        }
    }
}
