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
// steps. η = 1 with every step is DDPM's ancestral step with the posterior variance β̃_t; η = 0
// adds no noise at all, so the same x_T always gives the same image (an ODE), which lets us
// interpolate between two x_T and run the sampler backwards to find the x_T of a real image
// (inversion). The options are in Command.swift, the figures in Figures.swift.
//
// Run:  swift run -c release Chapter07-FastSampling            (needs Chapter 6's unet.safetensors)

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter07 {
    /// The lesson, top to bottom.
    func lesson(_ settings: Settings, out: OutputFolder) throws {
        // MARK: 1. The trained model of Chapter 6
        let loaded = try loadModel()
        let d = loaded.diffusion, epsilon = loaded.predictor, T = d.timesteps
        try settings.check(timesteps: T)
        let evaluation = try loadEvaluator()

        // MARK: 2. The DDIM update, written out, with η = 0
        //
        // Eight x_T, sampled by DDPM with all T steps (η = 1) and by DDIM (η = 0, trailing
        // spacing) with fewer. The loop below is Eq. 12 with σ = 0, line by line; `DDIMSampler`
        // (Sampling/DDIM.swift) takes the same step for any η, and the check shows they agree.
        var rng = RandomGenerator(seed: common.seed)
        let xT = Tensor.randn([8, 1, 28, 28], using: &rng)                             // [8, 1, 28, 28]
        let alphaBar = d.schedule.doubleArrays.alphasCumprod
        var rows: [(String, Tensor)] = []
        var ddpmRng = rng
        let everyStep = DDIMSampler(d, steps: Array((0..<T).reversed()), eta: 1, clip: clip)
        rows.append(("DDPM, \(T) steps", everyStep.sample(epsilon, from: xT, using: &ddpmRng)))
        for k in settings.counts {
            let steps = TimestepSpacing.trailing.timesteps(count: k, of: T)          // τ_1 > … > τ_k
            var x = xT                                                                 // x_τ1  [8, 1, 28, 28]
            noGrad { for (i, t) in steps.enumerated() {
                let s = i + 1 < steps.count ? steps[i + 1] : -1                        // the next step (−1: clean)
                let abS = s < 0 ? 1 : alphaBar[s]                                      // ᾱ_s (ᾱ_{−1} = 1)
                let (x0, eps) = d.predictStartAndNoise(epsilon, x: x, t: t, clip: clip)   // x̂_0, ε_θ  [8, 1, 28, 28]
                x = x0 * Float(abS.squareRoot()) + eps * Float((1 - abS).squareRoot())    // x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s) ε
            } }
            var unused = rng
            let library = DDIMSampler(d, steps: steps, clip: clip).sample(epsilon, from: xT, using: &unused)
            print("DDIM, \(k) steps: the loop above and DDIMSampler " + (x.data == library.data ? "agree to the bit" : "DIFFER"))
            rows.append(("DDIM, \(k) steps", x))
        }
        try out.writePNG(sideBySide(rows), "same_noise.png")

        // MARK: 2b. Why Chapter 6's network serves every η: a family of forward processes
        //
        // L_simple (DDPM Eq. 14) sees only the marginals q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), never
        // how x_t and x_s are joined. DDIM (its Eq. 7) builds, for any σ, a forward process that is not
        // Markovian (each x_s depends on x_t and on x_0),
        //     q_σ(x_s | x_t, x_0) = N(√ᾱ_s x_0 + √(1 − ᾱ_s − σ²) (x_t − √ᾱ_t x_0)/√(1 − ᾱ_t), σ² I),
        // with exactly those marginals (its Lemma 1): the same loss, so the same ε_θ, for every η. The
        // update of section 2 is this step with x_0 replaced by the network's guess x̂_0. Check: walk
        // 200,000 chains down the 10 trailing steps from x_T ~ q(x_T | x_0) and measure each x_s.
        print(familyCheck(alphaBar: alphaBar, steps: TimestepSpacing.trailing.timesteps(count: 10, of: T)))

        // η = 0 is Euler's method on the probability-flow ODE (Chapter 9). In x̄ = x/√ᾱ and
        // σ = √((1 − ᾱ)/ᾱ) the ODE reads dx̄/dσ = ε_θ (Karras et al. 2022, Eq. 3 with x̄ = x̂_0 + σ ε), so
        // one Euler step from σ_t to σ_s is x̄_s = x̄_t + (σ_s − σ_t) ε_θ: times √ᾱ_s, the DDIM step.
        var largest: Float = 0
        let ten = TimestepSpacing.trailing.timesteps(count: 10, of: T)
        var x = xT                                                                     // [8, 1, 28, 28]
        noGrad { for (i, t) in ten.enumerated() {
            let s = i + 1 < ten.count ? ten[i + 1] : -1
            let (abT, abS) = (alphaBar[t], s < 0 ? 1 : alphaBar[s])
            let (sigmaT, sigmaS) = (((1 - abT) / abT).squareRoot(), ((1 - abS) / abS).squareRoot())
            let (x0, eps) = d.predictStartAndNoise(epsilon, x: x, t: t, clip: false)  // x̂_0, ε_θ
            let ddim = x0 * Float(abS.squareRoot()) + eps * Float((1 - abS).squareRoot())
            let euler = (x * Float(1 / abT.squareRoot()) + eps * Float(sigmaS - sigmaT)) * Float(abS.squareRoot())
            largest = max(largest, zip(ddim.data, euler.data).map { abs($0 - $1) }.max() ?? 0)
            x = ddim
        } }
        print(String(format: "DDIM η = 0 against Euler in σ, 10 steps on 8 images: largest difference %.1e (float rounding)", largest))

        // MARK: 3. Quality against steps
        //
        // For each sampler, n images from fresh noise, scored by Chapter 6's classifier-FID beside
        // the score of as many real images. η = 0 (DDIM) with two spacings, η = 0.5, η = 1
        // (= respaced DDPM). Every setting starts from the same x_T.
        let settingsList: [(name: String, eta: Double, spacing: TimestepSpacing)] = [
            ("DDIM η=0, trailing", 0, .trailing), ("DDIM η=0, linspace", 0, .linspace),
            ("η=0.5, trailing", 0.5, .trailing), ("η=1 (respaced DDPM), trailing", 1, .trailing),
        ]
        let sampleRng = RandomGenerator(seed: common.seed &+ 7)
        func measure(_ name: String, eta: Double, spacing: TimestepSpacing, count: Int) -> Result {
            var r = sampleRng
            let sampler = DDIMSampler(d, steps: spacing.timesteps(count: count, of: T), eta: eta, clip: clip)
            let started = Stopwatch()
            var batches: [Tensor] = []
            for start in stride(from: 0, to: settings.samples, by: 128) {
                let xT = Tensor.randn([min(128, settings.samples - start), 1, 28, 28], using: &r)   // [≤128, 1, 28, 28]
                batches.append(sampler.sample(epsilon, from: xT, using: &r))
            }
            let x = Tensor.concat(batches, axis: 0)                                    // [n, 1, 28, 28]
            return report(name, eta: eta, spacing: spacing, steps: count, evaluation.report(x),
                          secondsPer64: started.seconds * 64 / Double(settings.samples))
        }
        print("\nclassifier-FID of \(settings.samples) images per setting (lower is better; beside it the score of \(settings.samples) real training images):")
        var results = [measure("DDPM (η=1, every step)", eta: 1, spacing: .trailing, count: T)]
        for s in settingsList { for k in settings.counts { results.append(measure(s.name, eta: s.eta, spacing: s.spacing, count: k)) } }
        try out.writePNG(qualityFigure(results, settings: settingsList.map(\.name), ddpm: results[0]), "quality.png")

        // MARK: 4. Determinism: walking between two x_T
        //
        // With η = 0 the sampler is a function of x_T. Spherical interpolation keeps every point at
        // the norm of Gaussian noise (a straight line would pass through low-norm x_T that sampling
        // never starts from): x(α) = sin((1−α)θ)/sin θ · a + sin(αθ)/sin θ · b, cos θ = a·b/(|a||b|).
        let a = Tensor.randn([1, 1, 28, 28], using: &rng), b = Tensor.randn([1, 1, 28, 28], using: &rng)
        let walk = Tensor.concat((0..<16).map { slerp(a, b, Float($0) / 15) }, axis: 0)   // [16, 1, 28, 28]
        var unused = rng
        let ode = DDIMSampler(d, steps: TimestepSpacing.trailing.timesteps(count: settings.figureSteps, of: T), clip: clip)
        let morph = ode.sample(epsilon, from: walk, using: &unused)                     // [16, 1, 28, 28]
        try writeInterpolation(morph, out: out)

        // MARK: 5. Inversion: from a real image back to its x_T, and forward again
        //
        // Run the η = 0 step the other way, x_next = √ᾱ_next x̂_0 + √(1 − ᾱ_next) ε_θ, from a test
        // image up to t = T − 1, then sample back down along the same steps.
        let x0 = try loadTestImages(8)                                                  // [8, 1, 28, 28]
        let invSteps = TimestepSpacing.linspace.timesteps(count: settings.figureSteps, of: T)
        var none = rng
        let found = DDIMInversion(d, steps: invSteps).sample(epsilon, from: x0, using: &none)   // [8, 1, 28, 28]
        let back = DDIMSampler(d, steps: invSteps).sample(epsilon, from: found, using: &none)    // [8, 1, 28, 28]
        let error = zip(back.data, x0.data).map { abs($0 - $1) }
        let meanError = error.reduce(0, +) / Float(error.count)
        print(String(format: "inversion with %d steps: mean |x0 - regenerated| = %.4f, largest %.3f (pixels in [-1, 1])",
                     settings.figureSteps, meanError, error.max() ?? 0))
        // The exact probability-flow ODE carries the data distribution onto N(0, I), whose RMS is 1
        // (Chapter 9). A few-step discretisation does not: the RMS of the inverted x_T against the
        // number of inversion steps shows how far the steps, not the ODE, fall short.
        func rms(_ x: Tensor) -> Float { (x.data.map { $0 * $0 }.reduce(0, +) / Float(x.count)).squareRoot() }
        print(String(format: "the inverted x_T have RMS %.3f with %d steps (N(0, I): 1)", rms(found), settings.figureSteps))
        let counts = [10, 50, 100, T].filter { $0 <= T }
        let rmsByCount = counts.map { count -> String in
            var unused = rng
            let steps = TimestepSpacing.linspace.timesteps(count: count, of: T)
            return String(format: "%d steps %.3f", count, rms(DDIMInversion(d, steps: steps).sample(epsilon, from: x0, using: &unused)))
        }
        print("RMS of the inverted x_T against the inversion's steps: " + rmsByCount.joined(separator: ", "))
        try out.writePNG(sideBySide([("test images", x0), ("their x_T", found.clamp(min: -3, max: 3) / 3), ("regenerated", back)]),
                  "inversion.png")

        try save(Summary(source: "\(loaded.recipe.name), step \(loaded.step)", samplesPerSetting: settings.samples,
                         results: results, inversionMeanError: meanError), out: out)
    }
}

/// Spherical interpolation between two noise tensors of the same shape.
func slerp(_ a: Tensor, _ b: Tensor, _ alpha: Float) -> Tensor {
    let dot = zip(a.data, b.data).map { $0 * $1 }.reduce(0, +)
    let na = a.data.map { $0 * $0 }.reduce(0, +).squareRoot(), nb = b.data.map { $0 * $0 }.reduce(0, +).squareRoot()
    let theta = acos(max(-1, min(1, dot / (na * nb))))
    guard theta > 1e-4 else { return a * (1 - alpha) + b * alpha }
    return a * (sin((1 - alpha) * theta) / sin(theta)) + b * (sin(alpha * theta) / sin(theta))
}
