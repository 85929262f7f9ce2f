import Foundation

/// The eigendecomposition of a real symmetric matrix, A = V · diag(λ) · Vᵀ, by the cyclic
/// Jacobi method (Jacobi 1846; Golub & Van Loan, "Matrix Computations", §8.5), in Double.
///
/// Each step picks an off-diagonal pair (p, q) and rotates rows and columns p and q by the
/// angle θ that zeroes A[p][q]:
///
///     τ = (A_qq − A_pp) / (2 A_pq),   t = tan θ = sign(τ) / (|τ| + √(1 + τ²)),
///     c = 1 / √(1 + t²),  s = t·c,    A ← Jᵀ A J,  V ← V J
///
/// (J is the identity with c, s, −s, c at (p,p), (p,q), (q,p), (q,q)). The rotation keeps the
/// matrix symmetric and moves the weight A_pq² onto the diagonal, so the off-diagonal sum of
/// squares shrinks every sweep over all pairs, quadratically near the end: 6–10 sweeps reach
/// machine precision. A sweep costs O(n³) (about 8n³ flops): 128 × 128 takes milliseconds.
/// The columns of V stay orthonormal because they are products of rotations.
public struct SymmetricEigen {
    /// The eigenvalues in ascending order.
    public let values: [Double]
    /// The eigenvectors, row-major n × n: column k (`vectors[i * n + k]`, i = 0..<n) belongs to `values[k]`.
    public let vectors: [Double]
    public let n: Int
    /// How many sweeps the iteration took.
    public let sweeps: Int

    /// Decomposes the symmetric matrix `a` (row-major n × n; only its symmetric part
    /// (A + Aᵀ)/2 is used, so round-off asymmetry does not matter).
    public init(_ a: [Double], n: Int, maxSweeps: Int = 50) {
        precondition(a.count == n * n, "SymmetricEigen: \(a.count) entries is not a \(n) × \(n) matrix")
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { m[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]) } }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var sweep = 0
        m.withUnsafeMutableBufferPointer { mp in v.withUnsafeMutableBufferPointer { vp in
            let scale = Swift.max((0..<(n * n)).reduce(0.0) { $0 + mp[$1] * mp[$1] }, .leastNormalMagnitude)
            while sweep < maxSweeps {
                var off = 0.0
                for p in 0..<n { for q in (p + 1)..<Swift.max(n, p + 1) { off += mp[p * n + q] * mp[p * n + q] } }
                if off <= 1e-30 * scale { break }       // off-diagonal part negligible: done
                sweep += 1
                for p in 0..<n {
                    for q in (p + 1)..<Swift.max(n, p + 1) {
                        let apq = mp[p * n + q]
                        if apq == 0 { continue }
                        let tau = (mp[q * n + q] - mp[p * n + p]) / (2 * apq)
                        let t = (tau >= 0 ? 1.0 : -1.0) / (Swift.abs(tau) + (1 + tau * tau).squareRoot())
                        let c = 1 / (1 + t * t).squareRoot(), s = t * c
                        SymmetricEigen.rotate(mp, vp, n: n, p: p, q: q, c: c, s: s, t: t)
                    }
                }
            }
        } }
        let order = (0..<n).sorted { m[$0 * n + $0] < m[$1 * n + $1] }
        values = order.map { m[$0 * n + $0] }
        var sorted = [Double](repeating: 0, count: n * n)
        for (k, j) in order.enumerated() { for i in 0..<n { sorted[i * n + k] = v[i * n + j] } }
        vectors = sorted
        self.n = n
        sweeps = sweep
    }

    /// A ← Jᵀ A J for the rotation in the (p, q) plane, and V ← V J. The diagonal pair is
    /// updated in the closed form A_pp − t·A_pq, A_qq + t·A_pq, and A_pq set to exactly 0.
    private static func rotate(_ a: UnsafeMutableBufferPointer<Double>, _ v: UnsafeMutableBufferPointer<Double>,
                               n: Int, p: Int, q: Int, c: Double, s: Double, t: Double) {
        let apq = a[p * n + q]
        a[p * n + p] -= t * apq
        a[q * n + q] += t * apq
        a[p * n + q] = 0; a[q * n + p] = 0
        for k in 0..<n where k != p && k != q {
            let akp = a[k * n + p], akq = a[k * n + q]
            let newP = c * akp - s * akq, newQ = s * akp + c * akq
            a[k * n + p] = newP; a[p * n + k] = newP
            a[k * n + q] = newQ; a[q * n + k] = newQ
        }
        for k in 0..<n {
            let vkp = v[k * n + p], vkq = v[k * n + q]
            v[k * n + p] = c * vkp - s * vkq
            v[k * n + q] = s * vkp + c * vkq
        }
    }

    /// f(A) = V · diag(f(λ)) · Vᵀ, row-major n × n (e.g. f = √ for the square root).
    public func applying(_ f: (Double) -> Double) -> [Double] {
        let fl = values.map(f)
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in 0..<n { s += vectors[i * n + k] * fl[k] * vectors[j * n + k] }
                out[i * n + j] = s; out[j * n + i] = s
            }
        }
        return out
    }

    /// The square root of a symmetric positive semi-definite matrix: the unique PSD S with
    /// S·S = A, S = V · diag(√max(λ, 0)) · Vᵀ. Eigenvalues that round-off made slightly
    /// negative are clamped to 0.
    public static func psdSquareRoot(_ a: [Double], n: Int) -> [Double] {
        SymmetricEigen(a, n: n).applying { Swift.max($0, 0).squareRoot() }
    }
}
