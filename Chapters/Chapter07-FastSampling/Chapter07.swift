// Chapter 7 — Fast sampling: DDIM, step spacing, and what quality costs in steps.
//
// Chapter 6's sampler calls the U-Net once per step, T = 300 times per image. DDIM (Song, Meng &
// Ermon 2020) keeps the trained network and changes only the sampler. It writes the step back
// from t to an earlier step s through the network's guess of the clean image (DDIM Eq. 12):
//
//     x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ(x_t, t)) / √ᾱ_t
//     x_s = √ᾱ_s · x̂_0  +  √(1 − ᾱ_s − σ²) · ε_θ(x_t, t)  +  σ z,
//     σ = η · √((1 − ᾱ_s)/(1 − ᾱ_t)) · √(1 − ᾱ_t/ᾱ_s)
//
// Nothing in it needs s = t − 1: it can jump along a sub-sequence of 10, 20 or 50 of the 300
// steps. η = 1 with every step is DDPM's ancestral step exactly; η = 0 adds no noise at all, so
// the same x_T always gives the same image (an ODE), which lets us interpolate between two x_T
// and run the sampler backwards to find the x_T of a real image (inversion).
//
// Run:  swift run -c release Chapter07-FastSampling            (needs Chapter 6's unet.safetensors)

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter07: ParsableCommand {
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

    func run() throws {
        let clock = Stopwatch()
        let n = common.value(samples, normal: 128, quick: 8)
        try Bounds.check("--samples", n, in: 2...10_000, "every setting samples this many images")
        let counts = try parseList(steps ?? (common.quick ? "2,4" : "10,20,50,100"), option: "--steps",
                                   expects: "step counts ≥ 1", example: "10,20,50") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        let figureCount = common.value(figureSteps, normal: 50, quick: 4)
        let out = try common.start("Chapter07-FastSampling")

        // MARK: 1. The trained model of Chapter 6
        let url = URL(fileURLWithPath: checkpoint ?? "output/Chapter06-FashionMNIST/unet.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ChapterError("no weights at \(url.path); run Chapter06-FashionMNIST first or pass --checkpoint FILE.")
        }
        let loaded: LoadedDenoiser
        do { loaded = try LoadedDenoiser(contentsOf: url, fallback: .improved) } catch {
            throw ChapterError("cannot sample from \(url.lastPathComponent): \(error)")
        }
        let d = loaded.diffusion, eps = loaded.predictor, T = d.timesteps
        guard counts.allSatisfy({ $0 <= T }), figureCount <= T else {
            throw ChapterError("every step count must be at most T = \(T); got \(counts) and --figure-steps \(figureCount).")
        }
        print("loaded \(url.lastPathComponent): recipe \(loaded.recipe.name), step \(loaded.step), T = \(T)")
        let evaluation: CourseEvaluator
        do { evaluation = try CourseEvaluator(quick: common.quick) } catch { throw ChapterError("\(error)") }

        // MARK: 2. Same noise, fewer steps
        //
        // Eight x_T, sampled by DDPM with all T steps and by DDIM (η = 0, trailing spacing) with
        // fewer: with 50 steps the clothes are the same garments as DDPM's, drawn 6× faster.
        var rng = RandomGenerator(seed: common.seed)
        let xT = Tensor.randn([8, 1, 28, 28], using: &rng)                             // [8, 1, 28, 28]
        var rows: [(String, Tensor)] = []
        var ddpmRng = rng
        rows.append(("DDPM, \(T) steps", d.ddimSampleLoop(eps, from: xT, steps: Array((0..<T).reversed()), eta: 1, clip: clip, using: &ddpmRng)))
        for k in counts {
            var unused = rng
            let steps = TimestepSpacing.trailing.timesteps(count: k, of: T)
            rows.append(("DDIM, \(k) steps", d.ddimSampleLoop(eps, from: xT, steps: steps, clip: clip, using: &unused)))
        }
        try sideBySide(rows).writePNG(to: out.file("same_noise.png"))
        print("wrote \(out.display("same_noise.png"))")

        // MARK: 3. Quality against steps
        //
        // For each sampler, n images from fresh noise, scored by Chapter 6's classifier-FID beside
        // its real-data floor. η = 0 (DDIM) with two spacings, η = 0.5, η = 1 (= respaced DDPM).
        let settings: [(name: String, eta: Double, spacing: TimestepSpacing)] = [
            ("DDIM η=0, trailing", 0, .trailing), ("DDIM η=0, linspace", 0, .linspace),
            ("η=0.5, trailing", 0.5, .trailing), ("η=1 (respaced DDPM), trailing", 1, .trailing),
        ]
        var results: [Result] = []
        let sampleRng = RandomGenerator(seed: common.seed &+ 7)
        func measure(_ name: String, eta: Double, spacing: TimestepSpacing, count: Int) -> Result {
            var r = sampleRng                                       // every setting starts from the same x_T
            let steps = spacing.timesteps(count: count, of: T)
            let started = Stopwatch()
            var batches: [Tensor] = []
            for start in stride(from: 0, to: n, by: 128) {
                batches.append(d.ddimSampleLoop(eps, shape: [min(128, n - start), 1, 28, 28], steps: steps, eta: eta, clip: clip, using: &r))
            }
            let x = batches.count == 1 ? batches[0] : Tensor.concat(batches, axis: 0)   // [n, 1, 28, 28]
            let seconds = started.seconds * 64 / Double(n)
            let report = evaluation.report(x)
            print("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0)
                  + String(format: "%4d steps   FID %8.2f (floor %.2f)   %6.1f s per 64 images", count, report.fid, report.floor, seconds))
            return Result(name: name, eta: eta, spacing: spacing.rawValue, steps: count, fid: report.fid, floor: report.floor)
        }
        print("\nclassifier-FID of \(n) images per setting (lower is better; the floor is \(n) real images):")
        results.append(measure("DDPM (η=1, every step)", eta: 1, spacing: .trailing, count: T))
        for s in settings { for k in counts { results.append(measure(s.name, eta: s.eta, spacing: s.spacing, count: k)) } }
        try qualityFigure(results, settings: settings.map(\.name), ddpm: results[0]).writePNG(to: out.file("quality.png"))
        print("wrote \(out.display("quality.png"))")

        // MARK: 4. Determinism: walking between two x_T
        //
        // With η = 0 the sampler is a function of x_T. Spherical interpolation keeps every point at
        // the norm of Gaussian noise (a straight line would pass through low-norm x_T that sampling
        // never starts from): x(α) = sin((1−α)θ)/sin θ · a + sin(αθ)/sin θ · b, cos θ = a·b/(|a||b|).
        let a = Tensor.randn([1, 1, 28, 28], using: &rng), b = Tensor.randn([1, 1, 28, 28], using: &rng)
        let path = (0..<16).map { slerp(a, b, Float($0) / 15) }
        let walk = Tensor.concat(path, axis: 0)                                          // [16, 1, 28, 28]
        var unused = rng
        let morph = d.ddimSampleLoop(eps, from: walk, steps: TimestepSpacing.trailing.timesteps(count: figureCount, of: T), clip: clip, using: &unused)
        try ImageGrid.make(morph, nrow: 16, padding: 2, scale: 3).writePNG(to: out.file("interpolation.png"))
        try GIFWriter.write(frames: (0..<16).map { ImageGrid.image(morph.select($0, axis: 0), scale: 8) },
                            delays: (0..<16).map { $0 == 15 || $0 == 0 ? 80 : 15 }, to: out.file("interpolation.gif"))
        print("wrote \(out.display("interpolation.png")) and \(out.display("interpolation.gif"))")

        // MARK: 5. Inversion: from a real image back to its x_T, and forward again
        let test = try loadTest(limit: 8)
        let x0 = test.images(Array(0..<8))                                               // [8, 1, 28, 28]
        let invSteps = TimestepSpacing.linspace.timesteps(count: figureCount, of: T)
        let found = d.ddimInvert(eps, x0: x0, steps: invSteps)                           // [8, 1, 28, 28]
        var none = rng
        let back = d.ddimSampleLoop(eps, from: found, steps: invSteps, using: &none)     // [8, 1, 28, 28]
        let error = zip(back.data, x0.data).map { abs($0 - $1) }
        let meanError = error.reduce(0, +) / Float(error.count)
        print(String(format: "inversion with %d steps: mean |x0 - regenerated| = %.4f, largest %.3f (pixels in [-1, 1])",
                     figureCount, meanError, error.max() ?? 0))
        let foundStd = (found.data.map { $0 * $0 }.reduce(0, +) / Float(found.count)).squareRoot()
        print(String(format: "the inverted x_T have std %.3f (pure noise: 1)", foundStd))
        try sideBySide([("test images", x0), ("their x_T", found.clamp(min: -3, max: 3) / 3), ("regenerated", back)])
            .writePNG(to: out.file("inversion.png"))
        print("wrote \(out.display("inversion.png"))")

        try out.writeJSON(Summary(source: "\(loaded.recipe.name), step \(loaded.step)", samplesPerSetting: n, results: results,
                                  inversionMeanError: meanError), to: "metrics.json")
        print(String(format: "done in %@", ProgressLine.duration(clock.seconds)))
    }
}
