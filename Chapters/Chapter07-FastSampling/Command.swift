import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

/// The command line of Chapter 7: its options, the checks made before any work, and the files
/// the lesson (Chapter07.swift) reads and writes.
@main
struct Chapter07: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter07-FastSampling",
        abstract: "DDIM and respaced DDPM on Chapter 6's model: quality against steps, determinism, inversion.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Weights to sample from (default: output/Chapter06-FashionMNIST/unet.safetensors).")
    var checkpoint: String?
    @Option(help: "Images per setting for the classifier-FID (default 128, --quick 8).")
    var samples: Int?
    @Option(help: "Step counts to compare, comma-separated (default 10,20,50,100; --quick 2,4).")
    var steps: String?
    @Option(help: "Steps of the interpolation and inversion figures (default 50, --quick 4).")
    var figureSteps: Int?
    @Flag(help: "Clip the network's guess x̂_0 to [-1, 1] at every step (and re-derive ε from it).")
    var clip = false
    @Flag(help: "Only redraw <output>/quality.png from <output>/metrics.json (after editing the figure), without sampling.")
    var replot = false

    /// The options, checked.
    struct Settings {
        var samples: Int
        var counts: [Int]
        var figureSteps: Int

        /// Every step count must fit the model's T (known once the model is loaded).
        func check(timesteps T: Int) throws {
            guard counts.allSatisfy({ $0 <= T }), figureSteps <= T else {
                throw ChapterError("every step count must be at most T = \(T); got \(counts) and --figure-steps \(figureSteps).")
            }
        }
    }

    func run() throws {
        let clock = Stopwatch()
        let n = common.value(samples, normal: 128, quick: 8)
        try Bounds.check("--samples", n, in: 2...10_000, "every setting samples this many images")
        let counts = try parseList(steps ?? (common.quick ? "2,4" : "10,20,50,100"), option: "--steps",
                                   expects: "step counts ≥ 1", example: "10,20,50") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        let figureCount = common.value(figureSteps, normal: 50, quick: 4)
        try Bounds.check("--figure-steps", figureCount, in: 1...10_000)
        let out = try common.start("Chapter07-FastSampling")
        if replot { return try redrawQuality(out) }
        try lesson(Settings(samples: n, counts: counts, figureSteps: figureCount), out: out)
        print(String(format: "done in %@", ProgressLine.duration(clock.seconds)))
    }

    // MARK: - Files of the lesson

    /// Chapter 6's model (or --checkpoint).
    func loadModel() throws -> LoadedDenoiser {
        let url = URL(fileURLWithPath: checkpoint ?? CourseFiles.chapter6Model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ChapterError("no weights at \(url.path); run Chapter06-FashionMNIST first or pass --checkpoint FILE.")
        }
        let loaded: LoadedDenoiser
        do { loaded = try LoadedDenoiser(contentsOf: url, fallback: .improved) } catch {
            throw ChapterError("cannot sample from \(url.lastPathComponent): \(ChapterError(error))")
        }
        print("loaded \(url.lastPathComponent): recipe \(loaded.recipe.name), step \(loaded.step), T = \(loaded.diffusion.timesteps)")
        return loaded
    }

    /// Chapter 6's classifier, the test images' features and the real images for the reference score.
    func loadEvaluator() throws -> CourseEvaluator {
        try reported { try CourseEvaluator(quick: common.quick, classifier: URL(fileURLWithPath: CourseFiles.classifier)) }
    }

    /// The first `count` test images [count, 1, 28, 28].
    func loadTestImages(_ count: Int) throws -> Tensor {
        let test = try reported { try FashionMNIST(split: .test, limit: count) }
        return test.images(Array(0..<count))
    }

    /// One line of the quality table, printed.
    func report(_ name: String, eta: Double, spacing: TimestepSpacing, steps: Int, _ r: FashionEvaluation.Report,
                secondsPer64: Double) -> Result {
        print("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0)
              + String(format: "%4d steps   FID %8.2f (real data %.2f)   %6.1f s per 64 images", steps, r.fid, r.realData, secondsPer64))
        return Result(name: name, eta: eta, spacing: spacing.rawValue, steps: steps, fid: r.fid, floor: r.realData)
    }


    /// interpolation.png (one row, each frame's weight α of the second x_T under it) and
    /// interpolation.gif (one frame per image, the ends held).
    func writeInterpolation(_ morph: Tensor, out: OutputFolder) throws {
        let row = ImageGrid.make(morph, nrow: 16, padding: 2, scale: 3)
        var canvas = Canvas(width: row.width, height: row.height + 40)
        canvas.draw(row, x: 0, y: 0)
        let frame = Double(row.width) / 16
        for i in 0..<16 {
            canvas.text(String(format: "%.2f", Double(i) / 15), x: Int((Double(i) + 0.5) * frame), y: row.height + 12,
                        anchor: TextAnchor(.center, .middle))
        }
        canvas.text("α, the weight of the second x_T in slerp(a, b, α)", x: row.width / 2, y: row.height + 30,
                    anchor: TextAnchor(.center, .middle))
        try canvas.writePNG(to: out.file("interpolation.png"))
        try GIFWriter.write(frames: (0..<16).map { ImageGrid.image(morph.select($0, axis: 0), scale: 8) },
                            delays: (0..<16).map { $0 == 15 || $0 == 0 ? 80 : 15 }, to: out.file("interpolation.gif"))
        print("wrote \(out.display("interpolation.png")) and \(out.display("interpolation.gif"))")
    }

    /// `--replot`: quality.png again from the results a finished run wrote to metrics.json.
    func redrawQuality(_ out: OutputFolder) throws {
        out.record = nil                                                  // the run's own record stays
        let url = out.path("metrics.json")
        let summary: Summary
        do { summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: url)) } catch {
            throw ChapterError("cannot read \(url.path) (\(error.localizedDescription)); run the chapter without --replot first.")
        }
        guard let ddpm = summary.results.first else { throw ChapterError("\(url.path) holds no results; run the chapter without --replot first.") }
        var names: [String] = []
        for r in summary.results.dropFirst() where !names.contains(r.name) { names.append(r.name) }
        try qualityFigure(summary.results, settings: names, ddpm: ddpm).writePNG(to: out.file("quality.png"))
        print("wrote \(out.display("quality.png")) from \(summary.results.count) results of metrics.json")
    }

    func save(_ summary: Summary, out: OutputFolder) throws {
        try out.writeJSON(summary, to: "metrics.json")
    }
}

// MARK: - What metrics.json holds

/// One sampler setting's score (no timings, so the same seed writes the same bytes).
struct Result: Codable {
    let name: String
    let eta: Double
    let spacing: String
    let steps: Int
    let fid: Double
    /// The score of real data: the classifier-FID of as many real training images.
    let floor: Double
}

struct Summary: Codable {
    let source: String
    let samplesPerSetting: Int
    let results: [Result]
    let inversionMeanError: Float
}
