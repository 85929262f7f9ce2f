import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - What the chapter measures

/// One guided sampler at one strength (no timings: the same seed writes the same bytes).
///
/// Samples that are no garment at all (`SampleDefect`: empty, or burnt out past the data's range)
/// are counted apart and never as a class: `accuracy` counts them as wrong, `garmentAccuracy`
/// leaves them out, and `shares` gives each class's fraction of *all* samples, so the shares and
/// `defective` add up to 1.
struct Row: Codable {
    let guidance: String
    let scale: Double
    /// The fraction of all samples Chapter 6's classifier puts in the class that was asked for,
    /// each judged as drawn and mirrored (`predictEitherWay`: the model draws shoes either way);
    /// a defective sample counts as wrong.
    let accuracy: Double
    /// The same with the samples judged only as drawn (`predict`), which calls mirrored shoes bags.
    let accuracyAsDrawn: Double?
    /// The accuracy among the samples that are not defective (judged either way).
    let garmentAccuracy: Double?
    /// The fraction of samples that are empty or saturated (`SampleDefect`), and each apart.
    let defective: Double?
    let empty: Double?
    let saturatedImages: Double?
    let fid: Double
    /// The classifier-FID of as many real training images: the score of real data (the mean of
    /// three draws), what a sampler that drew real images would get with this many samples.
    let floor: Double
    /// The fraction of pixels more than 0.1 beyond black or white, |x| > 1.1: over-guidance pushes
    /// pixels past the data's range (a good sample's background only jitters around −1).
    let saturated: Double
    /// Per class, the fraction of all samples that are not defective and judged that class.
    let shares: [Double]
    /// For each class, the fraction of the samples asked for it that the classifier puts in it
    /// (a defective sample counts as wrong) ...
    let classAccuracy: [Double]?
    /// ... and the fraction of them that are defective.
    let classDefective: [Double]?

    /// The same measurement under another guidance's name.
    func relabelled(_ name: String) -> Row {
        Row(guidance: name, scale: scale, accuracy: accuracy, accuracyAsDrawn: accuracyAsDrawn, garmentAccuracy: garmentAccuracy,
            defective: defective, empty: empty, saturatedImages: saturatedImages, fid: fid, floor: floor,
            saturated: saturated, shares: shares, classAccuracy: classAccuracy, classDefective: classDefective)
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
    /// The fraction of the real test images the defect rule (`SampleDefect`) calls empty or saturated.
    let realDefective: Double?
    let rows: [Row]
}

/// For each class c, the fraction of the items labelled c that are predicted c (or, with
/// `counting`, whose prediction is that value).
func perClassAccuracy(predicted: [Int], labels: [Int], classes: Int = 10, counting value: Int? = nil) -> [Double] {
    var right = [Int](repeating: 0, count: classes), total = right
    for (p, l) in zip(predicted, labels) { total[l] += 1; if p == (value ?? l) { right[l] += 1 } }
    return zip(right, total).map { $1 == 0 ? 0 : Double($0) / Double($1) }
}

/// The mean over the batch of the cosine between a[i] and b[i], each image flattened.
/// - Parameters: a, b: [N, ...] of the same shape.
func meanCosine(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "meanCosine: \(a.shape) against \(b.shape)")
    let n = a.shape[0], size = a.count / max(1, n)
    let (x, y) = (a.data, b.data)
    var total = 0.0
    for i in 0..<n {
        var dot = 0.0, xx = 0.0, yy = 0.0
        for j in (i * size)..<((i + 1) * size) {
            dot += Double(x[j]) * Double(y[j]); xx += Double(x[j]) * Double(x[j]); yy += Double(y[j]) * Double(y[j])
        }
        total += xx > 0 && yy > 0 ? dot / (xx * yy).squareRoot() : 0
    }
    return total / Double(max(1, n))
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

/// Accuracy against the asked labels (with and without the defective samples), classifier-FID
/// (of all samples), the defective samples and the pixels out of range, printed and returned.
func measure(_ guidance: String, _ scale: Double, _ x: Tensor, asked: [Int], _ evaluation: CourseEvaluator,
             seconds: Double) -> Row {
    let n = asked.count
    let defects = SampleDefect.of(images: x)                                  // nil: may be a garment
    let (eitherWay, asDrawn) = evaluation.evaluation.classifier.predictBothWays(x)
    // A defective sample is never a class: its prediction becomes −1, which no label equals.
    let predicted = zip(eitherWay, defects).map { $1 == nil ? $0 : -1 }
    let predictedAsDrawn = zip(asDrawn, defects).map { $1 == nil ? $0 : -1 }
    let garments = defects.indices.filter { defects[$0] == nil }
    let accuracy = fractionRight(predicted: predicted, labels: asked)
    let accuracyAsDrawn = fractionRight(predicted: predictedAsDrawn, labels: asked)
    let garmentAccuracy = fractionRight(predicted: garments.map { predicted[$0] }, labels: garments.map { asked[$0] })
    let count = { (defect: SampleDefect) in Double(defects.filter { $0 == defect }.count) / Double(n) }
    let (empty, burnt) = (count(.empty), count(.saturated))
    let shares = (0..<10).map { k in Double(predicted.filter { $0 == k }.count) / Double(n) }
    let classDefective = perClassAccuracy(predicted: defects.map { $0 == nil ? 0 : 1 }, labels: asked, classes: 10,
                                          counting: 1)
    let report = evaluation.report(x)
    let saturated = Double(x.data.filter { abs($0) > 1.1 }.count) / Double(x.count)
    let byClass = perClassAccuracy(predicted: predicted, labels: asked)
    print("  " + guidance.padding(toLength: 16, withPad: " ", startingAt: 0)
          + String(format: "scale %5.1f   accuracy %5.1f %% (as drawn %5.1f %%, of the garments %5.1f %%)   defective %4.1f %% (empty %.1f, saturated %.1f)",
                   scale, 100 * accuracy, 100 * accuracyAsDrawn, 100 * garmentAccuracy,
                   100 * (empty + burnt), 100 * empty, 100 * burnt)
          + "\n" + String(repeating: " ", count: 18)
          + String(format: "FID %7.2f (real data %.2f)   pixels beyond ±1.1 %5.2f %%   %5.1f s", report.fid, report.realData, 100 * saturated, seconds)
          + "\n" + String(repeating: " ", count: 18) + "weakest: " + weakest(byClass))
    return Row(guidance: guidance, scale: scale, accuracy: accuracy,
               accuracyAsDrawn: accuracyAsDrawn, garmentAccuracy: garmentAccuracy,
               defective: empty + burnt, empty: empty, saturatedImages: burnt, fid: report.fid, floor: report.realData,
               saturated: saturated, shares: shares, classAccuracy: byClass, classDefective: classDefective)
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
        let summary = try savedSummary(out, flag: "--replot")
        try tradeoffFigure(summary.rows).writePNG(to: out.file("tradeoff.png"))
        print("wrote \(out.display("tradeoff.png")) from \(summary.rows.count) rows of metrics.json")
    }

    /// The metrics.json a finished run wrote, for `--replot` and `--rescore`.
    func savedSummary(_ out: OutputFolder, flag: String) throws -> Summary {
        let url = out.path("metrics.json")
        do { return try JSONDecoder().decode(Summary.self, from: Data(contentsOf: url)) } catch {
            throw ChapterError("cannot read \(url.path) (\(error.localizedDescription)); run the chapter without \(flag) first.")
        }
    }

    /// `--rescore`: every row of metrics.json measured again from its saved samples (the images
    /// and the labels asked for), so a changed judge needs no new sampling; the rows, the
    /// judge's numbers and tradeoff.png are rewritten, the run's record stays.
    func rescoreSavedSamples(_ out: OutputFolder) throws {
        out.record = nil
        let old = try savedSummary(out, flag: "--rescore")
        let evaluation = try loadEvaluator()
        let realAccuracy = judgeRealImages(evaluation)
        let realDefective = judgeDefectRule(evaluation)
        var rows: [Row] = []
        for row in old.rows {
            let name = String(format: row.guidance == "classifier-free" ? "samples-w%g" : "samples-s%g", row.scale)
            if row.guidance == "classifier", row.scale == 0, let unguided = rows.first(where: { $0.guidance == "classifier-free" && $0.scale == 0 }) {
                rows.append(unguided.relabelled("classifier"))
                continue
            }
            let file = out.path(name + ".safetensors")
            let tensors: [String: Tensor]
            do { tensors = Dictionary(uniqueKeysWithValues: try SafeTensors.read(file).tensors.map { ($0.name, $0.tensor) }) } catch {
                throw ChapterError("cannot read \(file.path) (\(error)); run the chapter without --rescore to sample it again.")
            }
            guard let images = tensors["images"], let labels = tensors["labels"], images.shape.count == 4,
                  labels.shape == [images.shape[0]] else {
                throw ChapterError("\(file.path) does not hold images [N, 1, 28, 28] and labels [N]; run the chapter without --rescore.")
            }
            rows.append(measure(row.guidance, row.scale, images, asked: labels.data.map { Int($0) }, evaluation, seconds: 0))
        }
        try tradeoffFigure(rows).writePNG(to: out.file("tradeoff.png"))
        try out.writeJSON(Summary(source: old.source, samplesPerScale: old.samplesPerScale, ddimSteps: old.ddimSteps, clipped: old.clipped,
                                  realClassAccuracy: realAccuracy[0], realClassAccuracyAsDrawn: realAccuracy[1],
                                  realDefective: realDefective, rows: rows), to: "metrics.json")
        print("wrote \(out.display("metrics.json")) and \(out.display("tradeoff.png")) from \(rows.count) rows of saved samples")
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

