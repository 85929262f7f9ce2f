/// The plain matrix product, kept readable for the tests: C = α·op(A)·op(B) + β·C.
///
/// op(A) is [M, K] (A is stored [K, M] when `transA`), op(B) is [K, N] (B is [N, K] when
/// `transB`); lda, ldb, ldc are row strides. Row-major throughout.
public func referenceGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var s: Float = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += av * bv
            }
            c[i * ldc + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
}
