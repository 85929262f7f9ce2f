import Foundation
import TinyTensor

/// A mixture of round Gaussians in the plane, the density Chapters 1 and 4 draw their
/// clusters from, with everything about it in closed form:
///
///     p(x) = Σ_k π_k N(x; c_k, s² I)
///
/// Adding Gaussian noise of standard deviation σ (the noise of score matching) convolves each
/// component with N(0, σ² I), so the noised density is the same mixture with a wider spread:
///
///     p_σ(x) = Σ_k π_k N(x; c_k, (s² + σ²) I)
///
/// and its score (the gradient of the log-density, Song & Ermon 2019) is a weighted pull
/// towards the centres:
///
///     ∇_x log p_σ(x) = Σ_k r_k(x) (c_k − x) / (s² + σ²),
///     r_k(x) = softmax_k( log π_k − ‖x − c_k‖² / (2(s² + σ²)) )        (the responsibilities)
///
/// DDPM's forward process is the same operation with a rescale: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε
/// turns the mixture into Σ_k π_k N(√ᾱ_t c_k, (ᾱ_t s² + 1 − ᾱ_t) I) (`diffused(alphaBar:)`).
public struct GaussianMixture2D {
    /// The centres c_k.
    public var centres: [(x: Double, y: Double)]
    /// The weights π_k (positive, summing to 1).
    public var weights: [Double]
    /// The standard deviation s of every component.
    public var std: Double

    /// - Parameter weights: nil for equal weights; otherwise normalised to sum to 1.
    public init(centres: [(x: Double, y: Double)], weights: [Double]? = nil, std: Double) {
        precondition(!centres.isEmpty && std > 0, "GaussianMixture2D: needs at least one centre and std > 0")
        let w = weights ?? Array(repeating: 1, count: centres.count)
        precondition(w.count == centres.count && w.allSatisfy { $0 > 0 },
                     "GaussianMixture2D: one positive weight per centre, got \(w.count) for \(centres.count)")
        let total = w.reduce(0, +)
        self.centres = centres
        self.weights = w.map { $0 / total }
        self.std = std
    }

    /// The course's 8 clusters (Chapter 1): centres on a circle of radius 4, s = 0.1.
    public static func clusters(weights: [Double]? = nil) -> GaussianMixture2D {
        GaussianMixture2D(centres: ToyDatasets.clusterCentres().map { (Double($0.x), Double($0.y)) },
                          weights: weights, std: 0.1)
    }

    /// The centres as the Float pairs `Toy2DMetrics` takes.
    public var floatCentres: [(x: Float, y: Float)] { centres.map { (Float($0.x), Float($0.y)) } }

    /// The distribution of x_t = √ᾱ x_0 + √(1 − ᾱ) ε for x_0 from this mixture:
    /// centres √ᾱ c_k, spread √(ᾱ s² + 1 − ᾱ), the same weights.
    public func diffused(alphaBar: Double) -> GaussianMixture2D {
        let a = alphaBar.squareRoot()
        return GaussianMixture2D(centres: centres.map { (a * $0.x, a * $0.y) }, weights: weights,
                                 std: (alphaBar * std * std + 1 - alphaBar).squareRoot())
    }

    /// For one point: log p_σ(x), the responsibilities r_k(x) and the component variance s² + σ².
    func components(_ x: Double, _ y: Double, sigma: Double) -> (logDensity: Double, r: [Double], variance: Double) {
        let v = std * std + sigma * sigma
        let logTerms = centres.indices.map { k -> Double in                  // log π_k + log N(x; c_k, v I)
            let dx = x - centres[k].x, dy = y - centres[k].y
            return Foundation.log(weights[k]) - (dx * dx + dy * dy) / (2 * v) - Foundation.log(2 * Double.pi * v)
        }
        let top = logTerms.max()!                                            // log-sum-exp, stable far away
        let sum = logTerms.reduce(0) { $0 + Foundation.exp($1 - top) }
        return (top + Foundation.log(sum), logTerms.map { Foundation.exp($0 - top) / sum }, v)
    }

    /// log p_σ(x) at one point, in Double (for finite differences).
    public func logDensity(x: Double, y: Double, sigma: Double = 0) -> Double {
        components(x, y, sigma: sigma).logDensity
    }

    /// log p_σ(x) for each row of `points` [N, 2].
    public func logDensity(_ points: Tensor, sigma: Double = 0) -> [Double] {
        precondition(points.rank == 2 && points.shape[1] == 2, "logDensity: expected points [N, 2], got \(points.shape)")
        return (0..<points.shape[0]).map {
            components(Double(points.data[2 * $0]), Double(points.data[2 * $0 + 1]), sigma: sigma).logDensity
        }
    }

    /// ∇_x log p_σ(x) = Σ_k r_k(x) (c_k − x) / (s² + σ²) for each row of `points` [N, 2] → [N, 2].
    public func score(_ points: Tensor, sigma: Double = 0) -> Tensor {
        precondition(points.rank == 2 && points.shape[1] == 2, "score: expected points [N, 2], got \(points.shape)")
        var out = [Float](repeating: 0, count: points.count)
        for i in 0..<points.shape[0] {
            let x = Double(points.data[2 * i]), y = Double(points.data[2 * i + 1])
            let (_, r, v) = components(x, y, sigma: sigma)
            var gx = 0.0, gy = 0.0
            for k in centres.indices {
                gx += r[k] * (centres[k].x - x)
                gy += r[k] * (centres[k].y - y)
            }
            out[2 * i] = Float(gx / v)
            out[2 * i + 1] = Float(gy / v)
        }
        return Tensor(out, shape: points.shape)                                   // [N, 2]
    }

    /// `count` independent draws of p_σ: a component by its weight, then its Gaussian.
    public func sample(count: Int, sigma: Double = 0, using rng: inout RandomGenerator) -> Tensor {
        let u = rng.uniform(count: count)
        let z = rng.normal(count: 2 * count)
        let spread = Float((std * std + sigma * sigma).squareRoot())
        var data = [Float](repeating: 0, count: 2 * count)                    // [count, 2]
        for i in 0..<count {
            var k = 0, cumulative = weights[0]
            while Double(u[i]) >= cumulative && k < weights.count - 1 { k += 1; cumulative += weights[k] }
            data[2 * i] = Float(centres[k].x) + spread * z[2 * i]
            data[2 * i + 1] = Float(centres[k].y) + spread * z[2 * i + 1]
        }
        return Tensor(data, shape: [count, 2])
    }
}
