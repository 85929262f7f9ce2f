import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

// Chapter 6's measuring tools: the Fashion-MNIST classifier, the symmetric eigendecomposition,
// the Fréchet distance (against Fixtures/frechet_fixture.json from make_frechet_fixture.py,
// numpy + scipy.linalg.sqrtm in float64) and the evaluation helpers.

/// The fixture's fields (flat row-major arrays, shapes alongside).
struct FrechetFixture: Decodable {
    let x: [Double], x_shape: [Int], y: [Double], y_shape: [Int]
    let mean_x: [Double], mean_y: [Double], cov_x: [Double], cov_y: [Double]
    let fid_xy: Double, fid_zy: Double, trace_sqrt_xy: Double
    let symmetric: [Double], symmetric_n: Int, symmetric_eigenvalues: [Double]

    static func load() throws -> FrechetFixture {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("frechet_fixture.json")
        return try JSONDecoder().decode(FrechetFixture.self, from: Data(contentsOf: url))
    }
    var xTensor: Tensor { Tensor(x.map(Float.init), shape: x_shape) }   // [200, 16], exact (multiples of 1/64)
    var yTensor: Tensor { Tensor(y.map(Float.init), shape: y_shape) }   // [150, 16]
}

/// max |a − b| / max(max |b|, tiny).
func relativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    let scale = max(b.map(abs).max() ?? 0, 1e-300)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

@Suite struct FashionEvaluationTests {
    // MARK: classifier

    @Test func classifierShapesAndNames() {
        var rng = RandomGenerator(seed: 0)
        let model = FashionClassifier(rng: &rng)
        let x = Tensor.rand([3, 1, 28, 28], low: -1, high: 1, using: &rng)   // [3, 1, 28, 28]
        #expect(model.features(x).shape == [3, 128])
        #expect(model(x).shape == [3, 10] && model.logits(x).shape == [3, 10])
        #expect(model.namedParameters().map(\.name) == [
            "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "conv3.weight", "conv3.bias",
            "conv4.weight", "conv4.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        #expect(model.parameterCount == 248_650)
        // Batched, graph-free helpers agree with the plain forward pass.
        let features = model.featureMatrix(x, batchSize: 2)                   // [3, 128]
        #expect(features.data == noGrad { model.features(x) }.data)
        #expect(model.predict(x, batchSize: 2) == model(x).argmax(axis: 1))
    }

    @Test func predictEitherWayGivesAnImageAndItsMirrorOneClass() {
        var rng = RandomGenerator(seed: 7)
        let model = FashionClassifier(rng: &rng)
        let x = Tensor.rand([6, 1, 28, 28], low: -1, high: 1, using: &rng)             // [6, 1, 28, 28]
        let mirrored = ImageTransforms.horizontalFlip(x, where: [Bool](repeating: true, count: 6))
        let eitherWay = model.predictEitherWay(x, batchSize: 4)
        #expect(eitherWay == model.predictEitherWay(mirrored, batchSize: 4))
        // The rule itself: argmax of the summed log-probabilities of the two views.
        let score = noGrad { model(x).logSoftmax(axis: 1) + model(mirrored).logSoftmax(axis: 1) }   // [6, 10]
        #expect(eitherWay == score.argmax(axis: 1))
        let both = model.predictBothWays(x, batchSize: 4)
        #expect(both.eitherWay == eitherWay && both.asDrawn == model.predict(x))
        // A left-right symmetric image is judged as `predict` judges it.
        let symmetric = Tensor(x.data.enumerated().map { i, v in i % 28 < 14 ? v : x.data[i - (i % 28) + 27 - i % 28] },
                               shape: [6, 1, 28, 28])
        #expect(model.predictEitherWay(symmetric) == model.predict(symmetric))
    }

    @Test func horizontalFlipMirrorsRows() {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor((0..<(8 * 28 * 28)).map { Float($0) }, shape: [8, 1, 28, 28])
        let y = FashionClassifier.randomHorizontalFlip(x, rng: &rng)
        var flipped = 0
        for i in 0..<8 {
            let a = x.data[(i * 784)..<(i * 784 + 28)], b = Array(y.data[(i * 784)..<(i * 784 + 28)])
            if b == Array(a) { continue }
            #expect(b == Array(a.reversed()))
            flipped += 1
        }
        #expect(flipped > 0 && flipped < 8)
    }

    @Test func trainingLowersTheLossOnASubset() throws {
        guard let data = try? FashionMNIST(split: .train, limit: 512) else { return }   // dataset not installed
        var rng = RandomGenerator(seed: 1)
        var losses: [Double] = []
        let model = FashionClassifier.train(on: data, epochs: 2, batchSize: 64, lr: 2e-3, flip: true,
                                            reportEvery: 1, rng: &rng) { losses.append($0.loss) }
        #expect(losses.count == 16)
        let first = losses.prefix(3).reduce(0, +) / 3, last = losses.suffix(3).reduce(0, +) / 3
        #expect(first > 2.0 && last < 0.8 * first, "losses \(losses)")
        #expect(!model.training)
        #expect(model.accuracy(on: data) > 0.4)
    }

    @Test func loadingSavesAndExplains() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fashion-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomGenerator(seed: 2)
        let model = FashionClassifier(rng: &rng)
        let url = dir.appendingPathComponent("classifier.safetensors")
        try model.saveStateDict(to: url)
        let loaded = try FashionClassifier.load(from: url)
        let x = Tensor.rand([2, 1, 28, 28], low: -1, high: 1, using: &rng)
        #expect(loaded(x).data == model(x).data && loaded.fingerprint == model.fingerprint)
        for bad in [dir.appendingPathComponent("missing.safetensors"), dir.appendingPathComponent("other.safetensors")] {
            if bad.lastPathComponent == "other.safetensors" { try Linear(3, 2, rng: &rng).saveStateDict(to: bad) }
            do {
                _ = try FashionClassifier.load(from: bad)
                Issue.record("loading \(bad.lastPathComponent) should fail")
            } catch let error as DiffusionError {
                // The library names the remedy by its setting; a chapter writes it as its flag.
                #expect(error.optionKeys == ["trainClassifier"], "\(error)")
                #expect(error.rendered(options: ["trainClassifier": "--train-classifier"]).contains("retrain it (--train-classifier"),
                        "\(error)")
            } catch {
                Issue.record("expected a DiffusionError, got \(error)")
            }
        }
    }

    // MARK: eigendecomposition and Fréchet distance

    @Test func eigenvaluesMatchNumpy() throws {
        let f = try FrechetFixture.load()
        let n = f.symmetric_n
        let e = SymmetricEigen(f.symmetric, n: n)
        #expect(relativeDifference(e.values, f.symmetric_eigenvalues) < 1e-12)
        #expect(e.values == e.values.sorted())
        // A·v = λ·v for every pair, and VᵀV = I.
        for k in 0..<n {
            for i in 0..<n {
                var av = 0.0
                for j in 0..<n { av += f.symmetric[i * n + j] * e.vectors[j * n + k] }
                #expect(abs(av - e.values[k] * e.vectors[i * n + k]) < 1e-12)
            }
            for l in 0..<n {
                var dot = 0.0
                for i in 0..<n { dot += e.vectors[i * n + k] * e.vectors[i * n + l] }
                #expect(abs(dot - (k == l ? 1 : 0)) < 1e-12)
            }
        }
        // The PSD square root squares back to the matrix.
        let s = f.cov_x, r = SymmetricEigen.psdSquareRoot(s, n: 16)
        #expect(relativeDifference(FrechetDistance.multiply(r, r, n: 16), s) < 1e-12)
    }

    @Test func statisticsAndDistanceMatchScipy() throws {
        let f = try FrechetFixture.load()
        let sx = GaussianStatistics(features: f.xTensor), sy = GaussianStatistics(features: f.yTensor)
        #expect(sx.count == 200 && sx.dimension == 16)
        #expect(relativeDifference(sx.mean, f.mean_x) < 1e-12 && relativeDifference(sy.mean, f.mean_y) < 1e-12)
        #expect(relativeDifference(sx.covariance, f.cov_x) < 1e-12 && relativeDifference(sy.covariance, f.cov_y) < 1e-12)
        let trace = FrechetDistance.traceOfSquareRootProduct(sx.covariance, sy.covariance, n: 16)
        #expect(abs(trace - f.trace_sqrt_xy) / f.trace_sqrt_xy < 1e-9)
        let d = FrechetDistance.squared(f.xTensor, f.yTensor)
        #expect(abs(d - f.fid_xy) / f.fid_xy < 1e-7, "\(d) vs scipy \(f.fid_xy)")
        #expect(abs(FrechetDistance.squared(sy, sx) - d) < 1e-9 * d)            // symmetric in its arguments
        // A rank-deficient covariance (5 points in 16 dimensions): round-off eigenvalues clamped.
        let dz = FrechetDistance.squared(f.xTensor.slice(0..<5), f.yTensor)
        #expect(abs(dz - f.fid_zy) / f.fid_zy < 1e-6, "\(dz) vs scipy \(f.fid_zy)")
        // Identical sets are at distance 0.
        #expect(FrechetDistance.squared(f.xTensor, f.xTensor) < 1e-9)
    }

    @Test func eigendecompositionOf128IsFast() {
        var rng = RandomGenerator(seed: 3)
        let n = 128
        let b = rng.normal(count: n * n).map(Double.init)
        var a = [Double](repeating: 0, count: n * n)                       // A = BᵀB / n, PSD
        for i in 0..<n { for k in 0..<n { let bki = b[k * n + i]; for j in 0..<n { a[i * n + j] += bki * b[k * n + j] / Double(n) } } }
        let clock = Date()
        let e = SymmetricEigen(a, n: n)
        let seconds = Date().timeIntervalSince(clock)
        #expect(seconds < 2, "128 × 128 took \(seconds) s")
        #expect(e.values.first! > -1e-10 && e.values.last! < 5)              // Marchenko–Pastur: within (0, 4)
        var trace = 0.0
        for i in 0..<n { trace += a[i * n + i] }
        #expect(abs(e.values.reduce(0, +) - trace) < 1e-9 * trace)
    }

    // MARK: evaluation helpers

    @Test func sharesSumToOneAndSelfDistanceIsZero() throws {
        var rng = RandomGenerator(seed: 4)
        let model = FashionClassifier(rng: &rng)
        let images = Tensor.rand([40, 1, 28, 28], low: -1, high: 1, using: &rng)   // [40, 1, 28, 28]
        let evaluation = FashionEvaluation(classifier: model, reference: model.statistics(of: images))
        let shares = evaluation.classShares(samples: images)
        #expect(shares.count == 10 && abs(shares.reduce(0, +) - 1) < 1e-12)
        #expect(evaluation.fid(samples: images) < 1e-6)
        let other = Tensor.rand([40, 1, 28, 28], low: -1, high: 0, using: &rng)
        #expect(evaluation.fid(samples: other) > 1e-3)
        #expect(model.classifierFID(samples: other, reference: evaluation.reference) == evaluation.fid(samples: other))
    }

    @Test func floorOfTheReferenceSetItselfIsZero() throws {
        guard let train = try? FashionMNIST(split: .train, limit: 300) else { return }   // dataset not installed
        var rng = RandomGenerator(seed: 6)
        let model = FashionClassifier(rng: &rng)
        let evaluation = FashionEvaluation(classifier: model, reference: model.statistics(of: train.images(Array(0..<300))))
        // All 300 images in another order: the same Gaussian, whatever the seed.
        #expect(evaluation.realDataScore(train: train, count: 300, draws: 2, seed: 9) < 1e-6)
        let a = evaluation.realDataScore(train: train, count: 100, seed: 1)
        #expect(a > 0 && a == evaluation.realDataScore(train: train, count: 100, seed: 1))   // seeded
        let report = evaluation.report(samples: train.images(Array(0..<50)), train: train)
        #expect(report.count == 50 && report.realData > 0 && abs(report.shares.reduce(0, +) - 1) < 1e-12)
    }

    /// The weights committed for Chapter 6 load and classify real test images.
    @Test func committedClassifierClassifiesTestImages() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("output/Chapter06-FashionMNIST/classifier.safetensors")
        guard FileManager.default.fileExists(atPath: url.path),
              let test = try? FashionMNIST(split: .test, limit: 500) else { return }
        let model = try FashionClassifier.load(from: url)
        #expect(model.accuracy(on: test) > 0.88)
    }
}
