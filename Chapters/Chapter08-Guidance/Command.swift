import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

/// The command line of Chapter 8: its options, the checks made before any work, and the files
/// the lesson (Chapter08.swift) reads and writes.
@main
struct Chapter08: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter08-Guidance",
        abstract: "Class-conditional sampling: classifier-free guidance and classifier guidance, and what they cost.")

    @OptionGroup var common: ChapterOptions
    @Option(help: "The class-conditional weights (default: <output>/unet.safetensors).")
    var checkpoint: String?
    @Option(help: "Classifier-free guidance scales w of the measured sweep (default 0,1,2,3,5,7).") var scales: String?
    @Option(help: "Scales w of the 10 × 8 grids (default 0,1,3,7,15).") var gridScales: String?
    @Option(help: "Classifier-guidance scales s of the measured sweep (default 0,1,3,10,30).") var classifierScales: String?
    @Option(help: "Images per scale in the sweeps (default 250, --quick 20).") var samples: Int?
    @Option(help: "DDIM steps (η = 0, trailing spacing) of every sampler (default 50, --quick 4).") var steps: Int?
    @Option(help: "Epochs of the noisy-image classifier when it is (re)trained (default 3).") var classifierEpochs: Int?
    @Flag(help: "Train the noisy-image classifier even if <output>/noisy_classifier.safetensors exists.")
    var trainClassifier = false
    @Flag(help: "Clip the predicted x̂_0 to [−1, 1] at every DDIM step (static thresholding), so strong guidance cannot push pixels out of range.")
    var clip = false
    @Flag(help: "Only redraw <output>/tradeoff.png from <output>/metrics.json (after editing the figure), without sampling.")
    var replot = false
    @Flag(help: "Score the saved samples-w*/samples-s* files again (after changing the judge) and rewrite metrics.json and tradeoff.png, without sampling.")
    var rescore = false

    /// The options, checked.
    struct Settings {
        var scales: [Double]
        var gridScales: [Double]
        var classifierScales: [Double]
        var samples: Int
        var steps: Int
    }

    mutating func run() throws {
        let settings = Settings(scales: try parseScales(scales ?? "0,1,2,3,5,7", "--scales"),
                                gridScales: try parseScales(gridScales ?? "0,1,3,7,15", "--grid-scales"),
                                classifierScales: try parseScales(classifierScales ?? "0,1,3,10,30", "--classifier-scales"),
                                samples: common.value(samples, normal: 250, quick: 20),
                                steps: common.value(steps, normal: 50, quick: 4))
        try Bounds.check("--samples", settings.samples, in: 10...5000)
        try Bounds.check("--steps", settings.steps, in: 1...1000)
        try Bounds.check("--classifier-epochs", classifierEpochs ?? 3, in: 1...50)
        let out = try common.start("Chapter08-Guidance")
        if replot { return try redrawTradeoff(out) }
        if rescore { return try rescoreSavedSamples(out) }
        try lesson(settings, out: out)
    }

    // MARK: - Files of the lesson

    /// The class-conditional weights and ε_θ(x_t, t, y); refuses a model without the 10 classes.
    func loadConditionalModel(out: OutputFolder, steps: Int) throws -> (LoadedDenoiser, ConditionalNoisePredictor) {
        let url = URL(fileURLWithPath: checkpoint ?? out.path("unet.safetensors").path)
        let loaded: LoadedDenoiser
        do { loaded = try LoadedDenoiser(contentsOf: url, fallback: .conditional) } catch {
            throw ChapterError("cannot load \(url.path): \(ChapterError(error)); train it with Chapter06-FashionMNIST --recipe conditional --output \(out.url.path), or pass --checkpoint.")
        }
        guard let model = loaded.conditionalPredictor, let classes = loaded.recipe.numClasses, classes == 10 else {
            throw ChapterError("\(url.lastPathComponent) is not a class-conditional model of the 10 classes; train one with --recipe conditional.")
        }
        let T = loaded.diffusion.timesteps
        guard steps <= T else {
            throw ChapterError("--steps must be at most T = \(T), got \(steps).")
        }
        print("loaded \(url.lastPathComponent): recipe \(loaded.recipe.name), step \(loaded.step), T = \(T), "
              + "label dropout \(loaded.recipe.labelDropout ?? 0); sampling with DDIM, \(steps) steps"
              + (clip ? ", x̂_0 clipped to [−1, 1]" : ""))
        return (loaded, model)
    }

    func loadEvaluator() throws -> CourseEvaluator {
        try reported { try CourseEvaluator(quick: common.quick, classifier: URL(fileURLWithPath: CourseFiles.classifier)) }
    }

    /// The judge: how often Chapter 6's classifier is right on real test images, class by class.
    /// Every Fashion-MNIST shoe points left; the model, trained on images mirrored half the time,
    /// draws them either way, and the classifier calls a mirrored ankle boot a bag. So it judges
    /// each image as drawn and mirrored (`predictEitherWay`); `predict` is "as drawn".
    /// Returns the per-class accuracy judged either way, then as drawn.
    func judgeRealImages(_ evaluation: CourseEvaluator) -> [[Double]] {
        let test = evaluation.test
        let testLabels = test.labels.map(Int.init)
        let judged = evaluation.evaluation.classifier.predictBothWays(test.images(Array(0..<test.count)))
        var accuracy: [[Double]] = []
        for (rule, predicted) in [("judged either way", judged.eitherWay), ("as they are", judged.asDrawn)] {
            accuracy.append(perClassAccuracy(predicted: predicted, labels: testLabels))
            print(String(format: "the judge, Chapter 6's classifier, on %d real test images %@: %.1f %% right; weakest: ",
                         test.count, rule, 100 * fractionRight(predicted: predicted, labels: testLabels))
                  + weakest(accuracy.last!))
        }
        return accuracy
    }

    /// The defect rule on real images: what fraction of the test images it would take out.
    func judgeDefectRule(_ evaluation: CourseEvaluator) -> Double {
        let test = evaluation.test
        let defects = SampleDefect.of(images: test.images(Array(0..<test.count)))     // [count]
        let empty = defects.filter { $0 == .empty }.count, burnt = defects.filter { $0 == .saturated }.count
        print("a sample is defective, never a class, if fewer than \(SampleDefect.minimumForeground) (empty) or more than "
              + "\(SampleDefect.maximumForeground) (saturated) of its pixels are above \(SampleDefect.foregroundLevel); "
              + "of the \(test.count) real test images \(empty) are empty and \(burnt) saturated")
        return Double(empty + burnt) / Double(test.count)
    }

    /// samples-w<scale>.safetensors (or -s<scale>): the images of one sweep row and the labels
    /// asked for, so that any other judge can score them.
    func saveSamples(_ images: Tensor, asked: [Int], name: String, out: OutputFolder) throws {
        let labels = Tensor(asked.map(Float.init), shape: [asked.count])                  // [N]
        try SafeTensors.write([("images", images), ("labels", labels)],
                              metadata: ["images": "[N, 1, 28, 28] in [-1, 1]",
                                         "labels": "[N], the class asked for (0-9, as float), FashionMNIST order"],
                              to: out.file(name + ".safetensors"))
    }

    /// sneaker.gif: one frame per DDIM step, the last held.
    func writeSneakerGIF(_ frames: [Tensor], out: OutputFolder) throws {
        let canvases = frames.map { ImageGrid.make($0, nrow: 8, padding: 2, scale: 3) }
        try GIFWriter.write(frames: canvases, delays: Array(repeating: 8, count: canvases.count - 1) + [250],
                            to: out.file("sneaker.gif"))
    }

    func save(_ summary: Summary, out: OutputFolder) throws {
        try out.writeJSON(summary, to: "metrics.json")
        print("wrote \(out.display("sneaker.gif"))\nwrote \(out.display("metrics.json"))")
    }
}
