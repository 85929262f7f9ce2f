import Foundation
import TinyTensor

/// A 2-D point cloud with a label per point (the cluster, moon, ring or arm it came from).
public struct ToyDataset {
    /// Short name: clusters, moons, circles, spiral.
    public let name: String
    /// The points.                                                            [N, 2]
    public let points: Tensor
    /// The component each point was drawn from (0-based).
    public let labels: [Int]
    /// For `clusters`, the 8 centres; empty for the others.
    public let centres: [(x: Float, y: Float)]
    /// Number of components (the number of distinct labels).
    public let componentCount: Int

    /// Number of points N.
    public var count: Int { points.shape[0] }
}

/// The 2-D toy datasets. Every one is scaled to roughly the ±4 box of the 2D tutorial and is
/// a deterministic function of the generator's seed.
public enum ToyDatasets {
    /// The names `make(_:using:)` accepts.
    public static let names = ["clusters", "moons", "circles", "spiral"]

    /// The dataset called `name`; an unknown name throws one sentence listing the known ones.
    public static func make(_ name: String, using rng: inout RandomGenerator) throws -> ToyDataset {
        switch name.lowercased() {
        case "clusters": return clusters(using: &rng)
        case "moons": return moons(using: &rng)
        case "circles": return circles(using: &rng)
        case "spiral": return spiral(using: &rng)
        default:
            throw DiffusionError("unknown dataset '\(name)'; choose one of \(names.joined(separator: ", ")).")
        }
    }

    /// The 8 cluster centres of the 2D tutorial (InFoCusp): the 4 axis points and the 4
    /// diagonal points (±0.5, ±0.5), all multiplied by `scale` (4).
    public static func clusterCentres(scale: Float = 4) -> [(x: Float, y: Float)] {
        [(0, 1), (1, 0), (0, -1), (-1, 0), (0.5, 0.5), (0.5, -0.5), (-0.5, -0.5), (-0.5, 0.5)]
            .map { (x: $0.0 * scale, y: $0.1 * scale) }
    }

    /// The 2D tutorial's data: `perCluster` points (1000) around each of the 8 centres with
    /// standard deviation `std` (0.1), cluster after cluster: 8000 × 2 points.
    ///
    ///     x ~ N(c_k, std² I),  k = 0 … 7
    public static func clusters(perCluster: Int = 1000, std: Float = 0.1, scale: Float = 4,
                                using rng: inout RandomGenerator) -> ToyDataset {
        let centres = clusterCentres(scale: scale)
        var data = [Float](), labels = [Int]()
        data.reserveCapacity(centres.count * perCluster * 2)
        for (k, c) in centres.enumerated() {
            let z = rng.normal(count: perCluster * 2, mean: 0, std: std)           // [perCluster, 2]
            for i in 0..<perCluster {
                data.append(c.x + z[2 * i]); data.append(c.y + z[2 * i + 1])
            }
            labels += Array(repeating: k, count: perCluster)
        }
        return ToyDataset(name: "clusters", points: Tensor(data, shape: [labels.count, 2]),
                          labels: labels, centres: centres, componentCount: centres.count)
    }

    /// Two interleaving half circles (scikit-learn's `make_moons`), centred and scaled by 2.5:
    /// upper moon (cos θ, sin θ), lower moon (1 − cos θ, 1/2 − sin θ), θ ∈ [0, π], then
    /// (x − 1/2, y − 1/4) · 2.5 plus N(0, std²) noise: x in about [−3.9, 3.9].
    public static func moons(count: Int = 8000, std: Float = 0.1, using rng: inout RandomGenerator) -> ToyDataset {
        let nOuter = count / 2, nInner = count - nOuter
        let noise = rng.normal(count: count * 2, mean: 0, std: std)
        var data = [Float](), labels = [Int]()
        for i in 0..<count {
            let outer = i < nOuter
            let j = outer ? i : i - nOuter, n = outer ? nOuter : nInner
            let theta = n > 1 ? Double.pi * Double(j) / Double(n - 1) : 0
            let x = outer ? cos(theta) : 1 - cos(theta)
            let y = outer ? sin(theta) : 0.5 - sin(theta)
            data.append(Float((x - 0.5) * 2.5) + noise[2 * i])
            data.append(Float((y - 0.25) * 2.5) + noise[2 * i + 1])
            labels.append(outer ? 0 : 1)
        }
        return ToyDataset(name: "moons", points: Tensor(data, shape: [count, 2]), labels: labels,
                          centres: [], componentCount: 2)
    }

    /// Two concentric rings of radius 4 and 2 (scikit-learn's `make_circles`, factor 0.5,
    /// scaled by 4), angles evenly spaced, plus N(0, std²) noise.
    public static func circles(count: Int = 8000, std: Float = 0.1, using rng: inout RandomGenerator) -> ToyDataset {
        let nOuter = count / 2, nInner = count - nOuter
        let noise = rng.normal(count: count * 2, mean: 0, std: std)
        var data = [Float](), labels = [Int]()
        for i in 0..<count {
            let outer = i < nOuter
            let j = outer ? i : i - nOuter, n = outer ? nOuter : nInner
            let theta = 2 * Double.pi * Double(j) / Double(n)
            let r = outer ? 4.0 : 2.0
            data.append(Float(r * cos(theta)) + noise[2 * i])
            data.append(Float(r * sin(theta)) + noise[2 * i + 1])
            labels.append(outer ? 0 : 1)
        }
        return ToyDataset(name: "circles", points: Tensor(data, shape: [count, 2]), labels: labels,
                          centres: [], componentCount: 2)
    }

    /// A two-armed spiral: arm a ∈ {0, 1}, u uniform in [0, 1),
    /// r = 0.5 + 3.5 u, θ = 3π u + π a (one and a half turns), point r (cos θ, sin θ) + noise.
    public static func spiral(count: Int = 8000, std: Float = 0.1, using rng: inout RandomGenerator) -> ToyDataset {
        let u = rng.uniform(count: count)
        let noise = rng.normal(count: count * 2, mean: 0, std: std)
        var data = [Float](), labels = [Int]()
        for i in 0..<count {
            let arm = i < count / 2 ? 0 : 1
            let r = 0.5 + 3.5 * Double(u[i])
            let theta = 3 * Double.pi * Double(u[i]) + Double.pi * Double(arm)
            data.append(Float(r * cos(theta)) + noise[2 * i])
            data.append(Float(r * sin(theta)) + noise[2 * i + 1])
            labels.append(arm)
        }
        return ToyDataset(name: "spiral", points: Tensor(data, shape: [count, 2]), labels: labels,
                          centres: [], componentCount: 2)
    }
}
