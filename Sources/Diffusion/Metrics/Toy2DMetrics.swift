import Foundation
import TinyTensor

/// Numbers that say how well samples in the plane match a mixture of Gaussian clusters,
/// where the 2D tutorial judged by eye.
///
/// - shares: the fraction of samples whose nearest centre is centre k (ideal: 1/K each).
///   Shows missing or over-weighted modes.
/// - within: the fraction of samples closer than `radius` to some centre (0.5 = 5 standard
///   deviations of the tutorial's clusters: real data is essentially always inside).
///   Shows samples stranded between clusters.
/// - energy distance (Székely & Rizzo 2013), which compares whole distributions:
///
///       D²(X, Y) = 2·E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖
///
///   estimated with all pairs (V-statistic, so never negative). It is 0 only when the two
///   distributions are equal; a finite sample of the true distribution still scores a little
///   above 0, so `energyDistanceFloor` reports the score of real data: the distance of fresh
///   real samples of the same size. A sampler is as good as this metric can tell when it
///   scores about that (it can score below it by chance: the two are noisy estimates).
public struct Toy2DMetrics: Codable, Equatable {
    public var shares: [Double]
    public var withinRadius: Double
    public var radius: Double
    public var energyDistance: Double
    public var energyDistanceFloor: Double

    /// Evaluates `samples` [N, 2] against `centres` and a large real set `reference` [M, 2].
    /// The score of real data (`energyDistanceFloor`, under that name in the JSON files) is the mean distance of the `realDraws` (fresh real sets with N points each,
    /// drawn like the samples: independent points of the mixture) to the same reference.
    public static func evaluate(samples: Tensor, centres: [(x: Float, y: Float)], reference: Tensor,
                                realDraws: [Tensor], radius: Float = 0.5) -> Toy2DMetrics {
        let nearest = nearestCentres(samples, centres: centres)
        let inside = nearest.distance.filter { $0 < radius }.count
        let referenceSelf = meanDistance(reference, reference)
        func distance(_ x: Tensor) -> Double {
            2 * meanDistance(x, reference) - meanDistance(x, x) - referenceSelf
        }
        let floor = realDraws.map(distance).reduce(0, +) / Double(Swift.max(1, realDraws.count))
        return Toy2DMetrics(shares: shares(nearest.index, count: centres.count),
                            withinRadius: Double(inside) / Double(Swift.max(1, nearest.distance.count)),
                            radius: Double(radius), energyDistance: distance(samples), energyDistanceFloor: floor)
    }

    /// The metrics of `samples` against the course's 8 clusters (Chapters 1, 4 and 9): a
    /// reference set of 2000 points drawn like the training set (other random numbers) and
    /// 5 real draws of the samples' size for the energy distance of real data, all from
    /// `seed`, so two samplers evaluated with the same seed meet the same reference.
    public static func againstClusters(_ samples: Tensor, seed: UInt64) -> Toy2DMetrics {
        var rng = RandomGenerator(seed: seed &+ 0x5EED)
        let centres = ToyDatasets.clusterCentres()
        let reference = ToyDatasets.clusters(perCluster: 250, using: &rng).points           // [2000, 2]
        let draws = (0..<5).map { _ in mixtureSample(count: samples.shape[0], centres: centres, std: 0.1, using: &rng) }
        return evaluate(samples: samples, centres: centres, reference: reference, realDraws: draws)
    }

    /// `count` independent points of the equal-weight mixture of N(c_k, std² I): each point
    /// picks its centre at random (unlike the training set, which has exactly 1000 per centre).
    public static func mixtureSample(count: Int, centres: [(x: Float, y: Float)], std: Float,
                                     using rng: inout RandomGenerator) -> Tensor {
        let labels = rng.integers(count: count, below: centres.count)
        let z = rng.normal(count: 2 * count, mean: 0, std: std)
        var data = [Float](repeating: 0, count: 2 * count)                  // [count, 2]
        for (i, k) in labels.enumerated() {
            data[2 * i] = centres[k].x + z[2 * i]
            data[2 * i + 1] = centres[k].y + z[2 * i + 1]
        }
        return Tensor(data, shape: [count, 2])
    }

    /// For each point of `points` [N, 2]: the index of its nearest centre and the distance to it.
    public static func nearestCentres(_ points: Tensor, centres: [(x: Float, y: Float)]) -> (index: [Int], distance: [Float]) {
        precondition(points.rank == 2 && points.shape[1] == 2, "nearestCentres: expected points [N, 2], got \(points.shape)")
        precondition(!centres.isEmpty, "nearestCentres: no centres")
        let n = points.shape[0]
        var index = [Int](repeating: 0, count: n), distance = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let px = points.data[2 * i], py = points.data[2 * i + 1]
            var best = Float.infinity
            for (k, c) in centres.enumerated() {
                let d = (px - c.x) * (px - c.x) + (py - c.y) * (py - c.y)
                if d < best { best = d; index[i] = k }
            }
            distance[i] = best.squareRoot()
        }
        return (index, distance)
    }

    /// share_k = #{i : label_i = k} / N for k = 0..<count.
    public static func shares(_ labels: [Int], count: Int) -> [Double] {
        var tally = [Int](repeating: 0, count: count)
        for l in labels { tally[l] += 1 }
        return tally.map { Double($0) / Double(Swift.max(1, labels.count)) }
    }

    /// D²(X, Y) = 2·mean‖xᵢ − yⱼ‖ − mean‖xᵢ − xⱼ‖ − mean‖yᵢ − yⱼ‖ over all pairs (i = j included),
    /// for point sets x [N, 2] and y [M, 2]. Sums in Double.
    public static func energyDistance(_ x: Tensor, _ y: Tensor) -> Double {
        2 * meanDistance(x, y) - meanDistance(x, x) - meanDistance(y, y)
    }

    /// mean over all pairs of ‖aᵢ − bⱼ‖ for a [N, 2], b [M, 2] (rows of a in parallel chunks,
    /// partial sums combined in a fixed order, so the result does not depend on the thread count).
    static func meanDistance(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.rank == 2 && a.shape[1] == 2 && b.rank == 2 && b.shape[1] == 2,
                     "energyDistance: expected point sets [N, 2], got \(a.shape) and \(b.shape)")
        let n = a.shape[0], m = b.shape[0]
        guard n > 0, m > 0 else { return 0 }
        var rowSums = [Double](repeating: 0, count: n)
        a.data.withUnsafeBufferPointer { ap in b.data.withUnsafeBufferPointer { bp in
            rowSums.withUnsafeMutableBufferPointer { rs in
                let out = rs.baseAddress!
                Parallel.forRanges(n, grain: 64) { rows in
                    for i in rows {
                        let px = ap[2 * i], py = ap[2 * i + 1]
                        var s: Float = 0
                        for j in 0..<m {
                            let dx = px - bp[2 * j], dy = py - bp[2 * j + 1]
                            s += (dx * dx + dy * dy).squareRoot()
                        }
                        out[i] = Double(s)
                    }
                }
            }
        } }
        return rowSums.reduce(0, +) / Double(n * m)
    }
}
