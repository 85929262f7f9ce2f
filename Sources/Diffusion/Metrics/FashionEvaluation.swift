import Foundation
import TinyTensor

/// The numbers Chapter 6 reports for a set of generated Fashion-MNIST images, all measured by
/// the trained `FashionClassifier`:
///
/// - class shares: the fraction of samples predicted as each of the 10 classes
///   (the test set has exactly 10 % each; a dropped mode shows up as a share near 0);
/// - classifier-FID: the Fréchet distance between the Gaussian fitted to the samples'
///   128 features and the one fitted to the 10 000 test images' features (`FrechetDistance`);
/// - the score of real data: the same FID for N real *training* images, N = the number of
///   samples. A finite set never matches the test statistics exactly: μ and Σ estimated from N
///   images carry an error that grows the FID by about Tr(Σ)/N plus a larger O(F²/N) part from Σ
///   (F = 128 features). A sampler of N images that drew real images would score this on
///   average; it is a reference, not a bound (both numbers are noisy, and a sampler can land
///   below it: Chapter 7's DDIM-100 scores 117.3 against 119.2). Compare FIDs at the same N only.
/// - At N ≤ F = 128 the samples' covariance has rank at most N − 1 < 128: in the other
///   directions it is exactly zero, so the trace term counts the test set's whole variance there
///   whatever the samples look like. The 64-image FID (about 250 for real images) is mostly that
///   fixed part; differences between two samplers at N = 64 are small against it and noisy.
///
/// Everything runs in batches under `noGrad`, without randomness except the seeded choice of
/// the real-data score's training images, and gives the same numbers for any thread count.
public struct FashionEvaluation {
    public let classifier: FashionClassifier
    /// N(μ, Σ) of the test images' features.
    public let reference: GaussianStatistics

    /// The cache file name the chapter uses beside the classifier (not committed: 0.3 MB of JSON).
    public static let defaultCacheName = "classifier_test_statistics.json"

    /// Uses statistics computed before (e.g. loaded by the caller).
    public init(classifier: FashionClassifier, reference: GaussianStatistics) {
        precondition(reference.dimension == FashionClassifier.featureCount,
                     "FashionEvaluation: reference statistics have dimension \(reference.dimension), not \(FashionClassifier.featureCount)")
        self.classifier = classifier
        self.reference = reference
    }

    /// Computes the reference statistics of `test` (all its images), or reads them from
    /// `cache` when that file holds statistics made by this very classifier (its fingerprint)
    /// on as many images; a fresh computation is written to `cache` (JSON, exact Doubles).
    public init(classifier: FashionClassifier, test: FashionMNIST, cache: URL? = nil) throws {
        let source = "Fashion-MNIST test split, \(test.count) images, classifier \(classifier.fingerprint)"
        if let cache, let data = try? Data(contentsOf: cache),
           let stats = try? JSONDecoder().decode(GaussianStatistics.self, from: data),
           stats.source == source, stats.dimension == FashionClassifier.featureCount {
            self.init(classifier: classifier, reference: stats)
            return
        }
        let stats = classifier.statistics(of: test.images(Array(0..<test.count)), source: source)
        if let cache {
            try FileManager.default.createDirectory(at: cache.deletingLastPathComponent(), withIntermediateDirectories: true)
            try JSONEncoder().encode(stats).write(to: cache, options: .atomic)
        }
        self.init(classifier: classifier, reference: stats)
    }

    /// share_k = #{samples predicted as class k} / N, k = 0..<10 (sums to 1), each sample judged
    /// as drawn and mirrored (`predictEitherWay`: the models draw shoes pointing either way).
    /// samples: [N, 1, 28, 28] in [−1, 1].
    public func classShares(samples: Tensor) -> [Double] { classifier.classShares(samples: samples) }

    /// Classifier-FID of `samples` [N, 1, 28, 28] (N ≥ 2) against the test statistics.
    public func fid(samples: Tensor) -> Double {
        FrechetDistance.squared(classifier.statistics(of: samples), reference)
    }

    /// The FID of `count` training images, chosen without replacement by a seeded permutation,
    /// against the test statistics: the score of real data, what a sampler of `count` images that
    /// drew real training images would get.
    /// With `draws` > 1 it is the mean over that many independent choices (seeds seed, seed + 1, ...):
    /// for 1000 images one draw varies by about ±1 around the mean.
    public func realDataScore(train: FashionMNIST, count: Int, draws: Int = 1, seed: UInt64 = 0) -> Double {
        precondition(count >= 2 && count <= train.count,
                     "realDataScore: need 2 ... \(train.count) images, asked for \(count)")
        precondition(draws >= 1, "realDataScore: draws must be at least 1, got \(draws)")
        var total = 0.0
        for d in 0..<draws {
            var rng = RandomGenerator(seed: seed &+ UInt64(d))
            let indices = Array(rng.permutation(train.count).prefix(count))
            total += fid(samples: train.images(indices))                     // images [count, 1, 28, 28]
        }
        return total / Double(draws)
    }

    /// Everything at once, for the chapter's table.
    public func report(samples: Tensor, train: FashionMNIST, realDraws: Int = 1, seed: UInt64 = 0) -> Report {
        let n = samples.shape[0]
        return Report(count: n, fid: fid(samples: samples),
                      realData: realDataScore(train: train, count: Swift.min(n, train.count), draws: realDraws, seed: seed),
                      shares: classShares(samples: samples))
    }

    /// The measurements of one set of samples.
    public struct Report: Codable, Equatable, CustomStringConvertible {
        public var count: Int
        /// Classifier-FID of the samples against the test set.
        public var fid: Double
        /// Classifier-FID of `count` real training images against the test set: the score of real data.
        public var realData: Double
        /// Predicted class shares, indexed like `FashionMNIST.classNames`.
        public var shares: [Double]

        public var description: String {
            var lines = [String(format: "classifier-FID %.3f  (%d real images score %.3f)", fid, count, realData)]
            let parts = zip(FashionMNIST.classNames, shares).map { String(format: "%@ %.1f%%", $0, 100 * $1) }
            lines.append("class shares: " + parts.joined(separator: ", "))
            return lines.joined(separator: "\n")
        }
    }
}

extension FashionClassifier {
    /// share_k = #{i : ŷᵢ = k} / N for the 10 classes, ŷ from `predictEitherWay` (an image and its
    /// mirror count as the same class). samples: [N, 1, 28, 28].
    public func classShares(samples: Tensor, batchSize: Int = 500) -> [Double] {
        FashionClassifier.shares(of: predictEitherWay(samples, batchSize: batchSize))
    }

    /// share_k = #{i : predicted[i] = k} / N for the 10 classes.
    public static func shares(of predicted: [Int]) -> [Double] {
        var tally = [Int](repeating: 0, count: classCount)
        for k in predicted { tally[k] += 1 }
        let n = Double(Swift.max(1, predicted.count))
        return tally.map { Double($0) / n }
    }

    /// N(μ, Σ) of the 128 features of `images` [N, 1, 28, 28] (N ≥ 2).
    public func statistics(of images: Tensor, source: String = "", batchSize: Int = 500) -> GaussianStatistics {
        GaussianStatistics(features: featureMatrix(images, batchSize: batchSize), source: source)   // features [N, 128]
    }

    /// Classifier-FID of `samples` [N, 1, 28, 28] against reference statistics.
    public func classifierFID(samples: Tensor, reference: GaussianStatistics) -> Double {
        FrechetDistance.squared(statistics(of: samples), reference)
    }
}

/// The course's evaluation as Chapters 6–8 use it: the committed classifier (Chapter 6), the
/// test images' feature statistics, and training images for the score of real data (the first
/// 1,000 test and 2,048 training images with `quick`).
public struct CourseEvaluator {
    public let evaluation: FashionEvaluation
    public let train: FashionMNIST
    /// The test images the feature statistics come from.
    public let test: FashionMNIST

    /// - Parameter classifier: the weights of the course's classifier (Chapter 6 trains them).
    public init(quick: Bool, classifier url: URL) throws {
        let classifier = try FashionClassifier.load(from: url)
        test = try FashionMNIST(split: .test, limit: quick ? 1000 : nil)
        train = try FashionMNIST(split: .train, limit: quick ? 2048 : nil)
        evaluation = try FashionEvaluation(classifier: classifier, test: test)
    }

    /// Classifier-FID (with the score of real data: the mean of 3 draws of as many real images) and class shares.
    public func report(_ samples: Tensor) -> FashionEvaluation.Report {
        evaluation.report(samples: samples, train: train, realDraws: 3, seed: 0)
    }
}
