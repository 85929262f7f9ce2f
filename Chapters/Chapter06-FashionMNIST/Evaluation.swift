import ChapterSupport
import Diffusion
import Foundation
import TinyTensor

// MARK: - Evaluation: which clothes, and how real

/// The numbers of a sampling run (no timings, so the same seed writes the same bytes).
struct Metrics: Encodable {
    /// Where the samples came from: the recipe and step of the weights, or a samples file.
    let source: String
    let samples: Int
    /// Fréchet distance between the classifier's 128 features of the samples and of the 10,000
    /// test images, and the same for as many real training images (the best a sampler can score).
    let classifierFID: Double
    let realDataFloor: Double
    /// Share of each class among the samples by the classifier (the data: 10 % each), judged
    /// the way the model's training images looked: as drawn if it trained on the images as they
    /// are (every real shoe points left), and as drawn *or* mirrored if it trained with random
    /// flips, since it then draws shoes pointing either way and the classifier calls a mirrored
    /// boot a bag (`classSharesJudged` says which).
    let classShares: [String: Double]
    let classSharesJudged: String
    /// Both judgements: `FashionClassifier.predict` (mirrored shoes count as bags) and
    /// `predictEitherWay` (an image and its mirror get one class; right-pointing sneakers lose
    /// some to sandals).
    let classSharesAsDrawn: [String: Double]
    let classSharesEitherWay: [String: Double]
    /// Mean and standard deviation of the pixels (real training images in [−1, 1]: −0.43 and 0.71).
    let pixelMean: Float
    let pixelStd: Float
}

extension Chapter06 {
    /// Classifies the samples and scores them with the classifier-FID, beside its real-data floor.
    /// `mirroredTraining`: the model trained on randomly flipped images (decides `classShares`).
    func evaluate(samples: Tensor, source: String, mirroredTraining: Bool, quick: Bool) throws -> Metrics {
        let classifierURL = URL(fileURLWithPath: CourseFiles.classifier)
        let classifier: FashionClassifier
        do {
            // The classifier is trained once (8 epochs, about 15 minutes on 2 cores, 92.3 % on
            // the test images) and committed; --train-classifier trains it again.
            if trainClassifier {
                let train = try FashionMNIST(split: .train, limit: quick ? 2048 : nil)
                let test = try FashionMNIST(split: .test, limit: quick ? 1000 : nil)
                print("training the evaluation classifier (\(train.count) images)")
                classifier = try FashionClassifier.trainAndSave(to: classifierURL, train: train, test: test,
                                                                epochs: quick ? 1 : 8).model
            } else {
                classifier = try FashionClassifier.load(from: classifierURL)
            }
        } catch { throw ChapterError(error) }
        // The reference: the classifier's features of the test images (1,000 of them with --quick).
        let test = try reported { try FashionMNIST(split: .test, limit: quick ? 1000 : nil) }
        let train = try reported { try FashionMNIST(split: .train, limit: quick ? 2048 : nil) }
        let evaluation = try FashionEvaluation(classifier: classifier, test: test)
        let n = samples.shape[0]
        guard n >= 2 else { throw ChapterError("the classifier-FID needs at least 2 samples; pass --samples 2 or more.") }
        // The floor: N real training images (three draws, averaged) against the same test features.
        let report = evaluation.report(samples: samples, train: train, realDraws: 3, seed: 0)
        print(String(format: "classifier-FID %.3f  (%d real training images score %.3f)", report.fid, n, report.realData))
        let eitherWay = report.shares, asDrawn = FashionClassifier.shares(of: classifier.predict(samples))
        func percentages(_ shares: [Double]) -> String {
            zip(FashionMNIST.classNames, shares).map { String(format: "%@ %.1f%%", $0, 100 * $1) }.joined(separator: ", ")
        }
        if mirroredTraining {
            print("class shares, judged as drawn or mirrored (it trained on flipped images): " + percentages(eitherWay))
            print("judged only as drawn (mirrored shoes look like bags to the classifier): " + percentages(asDrawn))
        } else {
            print("class shares, judged as drawn (it trained on the images as they are): " + percentages(asDrawn))
            print("judged as drawn or mirrored: " + percentages(eitherWay))
        }
        let mean = samples.data.reduce(0, +) / Float(samples.count)
        let std = (samples.data.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(samples.count)).squareRoot()
        print(String(format: "pixels of the samples: mean %.3f, std %.3f (real images: -0.43, 0.71)", mean, std))
        func named(_ shares: [Double]) -> [String: Double] {
            Dictionary(uniqueKeysWithValues: zip(FashionMNIST.classNames, shares))
        }
        return Metrics(source: source, samples: n, classifierFID: report.fid, realDataFloor: report.realData,
                       classShares: named(mirroredTraining ? eitherWay : asDrawn),
                       classSharesJudged: mirroredTraining ? "as drawn or mirrored" : "as drawn",
                       classSharesAsDrawn: named(asDrawn), classSharesEitherWay: named(eitherWay),
                       pixelMean: mean, pixelStd: std)
    }

    /// Samples written by another program (e.g. Benchmarks/reference/torch_train_fashion.py):
    /// a safetensors file with one tensor [N, 1, 28, 28] in [−1, 1].
    func loadSamples(_ path: String) throws -> Tensor {
        let file: (tensors: [(name: String, tensor: Tensor)], metadata: [String: String])
        file = try reported { try SafeTensors.read(URL(fileURLWithPath: path)) }
        guard file.tensors.count == 1, let samples = file.tensors.first?.tensor, samples.rank == 4,
              Array(samples.shape.dropFirst()) == [1, 28, 28] else {
            throw ChapterError("\(path) must hold one tensor of shape [N, 1, 28, 28] (samples in [-1, 1]); it holds \(file.tensors.map { "\($0.name) \($0.tensor.shape)" }).")
        }
        let notFinite = samples.data.filter { !$0.isFinite }.count
        guard notFinite == 0 else {
            throw ChapterError("\(path) holds \(notFinite) values that are not finite (NaN or infinite); they cannot be scored.")
        }
        // A sampler's raw output strays beyond [−1, 1] (a trained model's a little, the untrained
        // model of a --quick run to about ±22); pixels stored as 0…255 go far beyond, and would
        // score nonsense.
        let (low, high) = (samples.data.min() ?? 0, samples.data.max() ?? 0)
        guard low >= -100, high <= 100 else {
            throw ChapterError(String(format: "%@ holds values from %g to %g; samples must be images in [-1, 1] "
                                      + "(pixels in 0…255 become x / 127.5 − 1).", path, low, high))
        }
        return samples
    }
}
