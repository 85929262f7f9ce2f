import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - What the chapter measures

/// One guided sampler at one strength (no timings: the same seed writes the same bytes).
struct Row: Codable {
    let guidance: String
    let scale: Double
    /// The fraction of samples Chapter 6's classifier puts in the class that was asked for, each
    /// sample judged as drawn and mirrored (`predictEitherWay`: the model draws shoes either way).
    let accuracy: Double
    /// The same with the samples judged only as drawn (`predict`), which calls mirrored shoes bags.
    let accuracyAsDrawn: Double?
    let fid: Double
    let floor: Double
    /// The fraction of pixels more than 0.1 beyond black or white, |x| > 1.1: over-guidance pushes
    /// pixels past the data's range (a good sample's background only jitters around −1).
    let saturated: Double
    let shares: [Double]
    /// For each class, the fraction of the samples asked for it that the classifier puts in it.
    let classAccuracy: [Double]?

    /// The same measurement under another guidance's name.
    func relabelled(_ name: String) -> Row {
        Row(guidance: name, scale: scale, accuracy: accuracy, accuracyAsDrawn: accuracyAsDrawn, fid: fid, floor: floor,
            saturated: saturated, shares: shares, classAccuracy: classAccuracy)
    }
}

struct Summary: Codable {
    let source: String
    let samplesPerScale: Int
    let ddimSteps: Int
    /// true when x̂_0 was clipped to [−1, 1] at every step (`--clip`); left out otherwise.
    let clipped: Bool?
    /// The judge itself: the classifier's accuracy per class on the real test images, judged
    /// either way (as the samples are), and as they are (`predict`).
    let realClassAccuracy: [Double]?
    let realClassAccuracyAsDrawn: [Double]?
    let rows: [Row]
}

/// For each class c, the fraction of the items labelled c that are predicted c.
func perClassAccuracy(predicted: [Int], labels: [Int], classes: Int = 10) -> [Double] {
    var right = [Int](repeating: 0, count: classes), total = right
    for (p, l) in zip(predicted, labels) { total[l] += 1; if p == l { right[l] += 1 } }
    return zip(right, total).map { $1 == 0 ? 0 : Double($0) / Double($1) }
}

/// The fraction of the items whose prediction is their label.
func fractionRight(predicted: [Int], labels: [Int]) -> Double {
    Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(max(1, labels.count))
}

/// "Ankle boot 62 %, Bag 85 %": the `count` classes with the lowest accuracy.
func weakest(_ accuracy: [Double], count: Int = 3) -> String {
    accuracy.enumerated().sorted { $0.element < $1.element }.prefix(count)
        .map { String(format: "%@ %.0f %%", FashionMNIST.classNames[$0.offset], 100 * $0.element) }.joined(separator: ", ")
}

/// Accuracy against the asked labels, classifier-FID, and the pixels out of range, printed and returned.
func measure(_ guidance: String, _ scale: Double, _ x: Tensor, asked: [Int], _ evaluation: CourseEvaluator,
             seconds: Double) -> Row {
    let (predicted, asDrawn) = evaluation.evaluation.classifier.predictBothWays(x)
    let accuracy = fractionRight(predicted: predicted, labels: asked)
    let accuracyAsDrawn = fractionRight(predicted: asDrawn, labels: asked)
    let report = evaluation.report(x)
    let saturated = Double(x.data.filter { abs($0) > 1.1 }.count) / Double(x.count)
    let byClass = perClassAccuracy(predicted: predicted, labels: asked)
    print("  " + guidance.padding(toLength: 16, withPad: " ", startingAt: 0)
          + String(format: "scale %5.1f   accuracy %5.1f %% (as drawn %5.1f %%)   FID %7.2f (floor %.2f)   saturated (|x| > 1.1) %5.2f %%   %5.1f s",
                   scale, 100 * accuracy, 100 * accuracyAsDrawn, report.fid, report.floor, 100 * saturated, seconds)
          + "\n" + String(repeating: " ", count: 18) + "weakest: " + weakest(byClass))
    return Row(guidance: guidance, scale: scale, accuracy: accuracy, accuracyAsDrawn: accuracyAsDrawn, fid: report.fid, floor: report.floor,
               saturated: saturated, shares: report.shares, classAccuracy: byClass)
}

/// "0,1,3" → [0, 1, 3]: guidance scales between −100 and 100.
func parseScales(_ text: String, _ option: String) throws -> [Double] {
    try parseList(text, option: option, expects: "numbers between -100 and 100", example: "0,1,3") {
        Double($0).flatMap { $0.isFinite && abs($0) <= 100 ? $0 : nil }
    }
}

extension Chapter08 {
    /// `--replot`: tradeoff.png again from the rows a finished run wrote to metrics.json.
    func redrawTradeoff(_ out: OutputFolder) throws {
        out.record = nil                                                  // the run's own record stays
        let url = out.url.appendingPathComponent("metrics.json")
        let summary: Summary
        do { summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: url)) } catch {
            throw ChapterError("cannot read \(url.path) (\(error.localizedDescription)); run the chapter without --replot first.")
        }
        try tradeoffFigure(summary.rows).writePNG(to: out.file("tradeoff.png"))
        print("wrote \(out.display("tradeoff.png")) from \(summary.rows.count) rows of metrics.json")
    }

    /// The noisy-image classifier from <output>/noisy_classifier.safetensors, trained (and saved)
    /// first when it is missing or `--train-classifier` asks; its accuracy at a few t printed.
    func noisyClassifier(_ d: GaussianDiffusion, out: OutputFolder) throws -> NoisyFashionClassifier {
        let url = out.file("noisy_classifier.safetensors")
        let classifier: NoisyFashionClassifier
        do {
            let test = try FashionMNIST(split: .test, limit: common.quick ? 500 : 2000)
            if trainClassifier || !FileManager.default.fileExists(atPath: url.path) {
                let train = try FashionMNIST(split: .train, limit: common.quick ? 512 : nil)
                let epochs = classifierEpochs ?? (common.quick ? 1 : 3)
                print("\ntraining the noisy-image classifier p_φ(y | x_t, t): \(epochs) epochs of \(train.count) images at random t")
                var rng = RandomGenerator(seed: common.seed &+ 9)
                let clock = Stopwatch()
                classifier = NoisyFashionClassifier.train(on: train, diffusion: d, epochs: epochs, rng: &rng) { step, total, loss in
                    if step % 500 == 0 || step == total { print(String(format: "  step %5d/%d  loss %.3f  %.0f s", step, total, loss, clock.seconds)) }
                }
                try classifier.saveStateDict(to: url)
                print("wrote \(out.display("noisy_classifier.safetensors"))")
            } else {
                classifier = try NoisyFashionClassifier.load(from: url)
                print("\nloaded \(out.display("noisy_classifier.safetensors"))")
            }
            let T = d.timesteps
            print("its accuracy on \(test.count) test images noised to step t: " + [0, T / 6, T / 3, T / 2, 5 * T / 6].map { t in
                String(format: "t = %d: %.1f %%", t, 100 * classifier.accuracy(on: test, diffusion: d, t: t))
            }.joined(separator: ", "))
        } catch let error as ChapterError { throw error } catch { throw ChapterError("\(error)") }
        return classifier
    }
}

