import Foundation
import TinyTensor

/// The mean and covariance of a set of feature vectors: the Gaussian N(μ, Σ) that FID fits.
///
///     μ = (1/N) Σᵢ xᵢ,    Σ = 1/(N − 1) Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ
///
/// (the unbiased covariance, as `numpy.cov(x, rowvar=False)` in the reference FID code),
/// accumulated in Double. Codable, so a chapter can cache the statistics of a reference set.
public struct GaussianStatistics: Codable, Equatable {
    /// How many feature vectors were summarised.
    public var count: Int
    /// The feature dimension F.
    public var dimension: Int
    /// μ, F values.
    public var mean: [Double]
    /// Σ, row-major F × F.
    public var covariance: [Double]
    /// Free text saying what the statistics describe (e.g. the classifier fingerprint).
    public var source: String

    public init(count: Int, dimension: Int, mean: [Double], covariance: [Double], source: String = "") {
        precondition(mean.count == dimension && covariance.count == dimension * dimension,
                     "GaussianStatistics: mean \(mean.count) / covariance \(covariance.count) do not fit dimension \(dimension)")
        self.count = count; self.dimension = dimension; self.mean = mean; self.covariance = covariance
        self.source = source
    }

    /// The statistics of the rows of `features` [N, F] (N ≥ 2).
    public init(features: Tensor, source: String = "") {
        precondition(features.rank == 2 && features.shape[0] >= 2,
                     "GaussianStatistics: expected features [N ≥ 2, F], got \(features.shape)")
        let (n, f) = (features.shape[0], features.shape[1])
        var mu = [Double](repeating: 0, count: f)
        var sigma = [Double](repeating: 0, count: f * f)
        features.data.withUnsafeBufferPointer { x in
            for i in 0..<n { for j in 0..<f { mu[j] += Double(x[i * f + j]) } }
            for j in 0..<f { mu[j] /= Double(n) }
            var centred = [Double](repeating: 0, count: f)
            for i in 0..<n {
                for j in 0..<f { centred[j] = Double(x[i * f + j]) - mu[j] }
                for j in 0..<f {                        // upper triangle, mirrored below
                    let cj = centred[j]
                    if cj == 0 { continue }             // ReLU features are often exactly 0
                    for k in j..<f { sigma[j * f + k] += cj * centred[k] }
                }
            }
        }
        for j in 0..<f {
            for k in j..<f {
                let v = sigma[j * f + k] / Double(n - 1)
                sigma[j * f + k] = v; sigma[k * f + j] = v
            }
        }
        self.init(count: n, dimension: f, mean: mu, covariance: sigma, source: source)
    }
}

/// The Fréchet (2-Wasserstein) distance between two Gaussians N(μ₁, Σ₁) and N(μ₂, Σ₂)
/// (Dowson & Landau 1982), the formula of FID (Heusel et al. 2017):
///
///     d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})
///
/// The reference code takes sqrtm(Σ₁Σ₂), a square root of a non-symmetric matrix; its trace
/// equals that of (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2} (both matrices have the same eigenvalues, the
/// products' λᵢ ≥ 0), and that form needs only square roots of symmetric positive
/// semi-definite matrices, i.e. two symmetric eigendecompositions (`SymmetricEigen`):
///
///     Σ₁^{1/2} = V diag(√λ) Vᵀ,   Tr(M^{1/2}) = Σₖ √max(eig(M)ₖ, 0)   for M = Σ₁^{1/2} Σ₂ Σ₁^{1/2}.
///
/// All in Double. The distance is 0 for equal statistics (up to round-off; tiny negative
/// totals are clamped to 0) and is reported as d², like FID.
public enum FrechetDistance {
    /// d² between two fitted Gaussians of the same dimension.
    public static func squared(_ a: GaussianStatistics, _ b: GaussianStatistics) -> Double {
        precondition(a.dimension == b.dimension, "FrechetDistance: dimensions \(a.dimension) and \(b.dimension) differ")
        let f = a.dimension
        var meanTerm = 0.0
        for j in 0..<f { meanTerm += (a.mean[j] - b.mean[j]) * (a.mean[j] - b.mean[j]) }
        var traces = 0.0
        for j in 0..<f { traces += a.covariance[j * f + j] + b.covariance[j * f + j] }
        return Swift.max(0, meanTerm + traces - 2 * traceOfSquareRootProduct(a.covariance, b.covariance, n: f))
    }

    /// d² between the Gaussians fitted to two feature sets [N₁, F] and [N₂, F].
    public static func squared(_ x: Tensor, _ y: Tensor) -> Double {
        squared(GaussianStatistics(features: x), GaussianStatistics(features: y))
    }

    /// Tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) = Tr((Σ₁Σ₂)^{1/2}) for symmetric PSD Σ₁, Σ₂ (row-major n × n).
    public static func traceOfSquareRootProduct(_ s1: [Double], _ s2: [Double], n: Int) -> Double {
        let r = SymmetricEigen.psdSquareRoot(s1, n: n)                 // Σ₁^{1/2}
        let m = multiply(multiply(r, s2, n: n), r, n: n)               // Σ₁^{1/2} Σ₂ Σ₁^{1/2}
        return SymmetricEigen(m, n: n).values.reduce(0) { $0 + Swift.max($1, 0).squareRoot() }
    }

    /// C = A·B for row-major n × n matrices (i-k-j order: the inner loop runs along rows).
    static func multiply(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }
}
