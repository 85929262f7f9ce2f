// Chapter 3 — The forward process: from data to noise.
//
// Adding noise one step at a time is a Markov chain (DDPM, Eq. 2):
//
//     x_t = √(1 − β_t) x_{t−1} + √β_t ε_t,            ε_t ~ N(0, I)
//
// A sum of Gaussians is Gaussian, so all t steps collapse into one (Eq. 4, "the nice property"):
//
//     x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,                   ε ~ N(0, I)
//
// That shortcut is what makes training cheap: pick any t, jump straight there. Section 1
// checks it numerically, section 2 watches the 2-D clusters dissolve, section 3 noises a photo,
// section 4 goes back one step.
//
// Run:  swift run -c release Chapter03-Forward        (your own photo: --image cat.png)
//
// This file is the lesson; the options and their checks are in Command.swift, the figures in Figures.swift.

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter03 {
    /// The lesson, top to bottom (the options are declared in Command.swift, which reads the
    /// photo of section 3 before any output: [1, 3, S, S] in [−1, 1]).
    func lesson(_ out: OutputFolder, photo: Tensor) throws {
        let diffusion = GaussianDiffusion(schedule: try NoiseSchedule(named: schedule, timesteps: timesteps))
        var rng = RandomGenerator(seed: common.seed)
        let T = timesteps

        // MARK: 1. Closed form versus the Markov chain
        //
        // Start n copies of one point x_0 = (0, 4) (the top cluster's centre). Run the chain
        // step by step, and separately jump with Eq. 4. Both should have mean √ᾱ_t x_0 and
        // variance 1 − ᾱ_t. Standard errors: a mean of n draws s = √((1 − ᾱ)/n), a variance
        // (1 − ᾱ)·√(2/(n − 1)); the z-score of a difference divides by √2 times that.
        let n = checkSampleCount                                     // 50 000 (--quick: 5000)
        let x0 = Tensor((0..<n).flatMap { _ in [Float(0), 4] }, shape: [n, 2])                // [n, 2]
        let checkpoints = Set([0, T / 10, T / 4, T / 2, T - 1].filter { $0 >= 0 && $0 < T })
        print("Forward check: \(n) samples from x_0 = (0, 4), \(schedule) schedule, T = \(T)")
        print("    t  sqrt(ab)*4   chain mean  closed mean     s.e.     z  |"
              + "     1-ab  chain var  closed var     s.e.     z")
        var chain = x0, worst = 0.0
        for step in 0..<T {
            chain = diffusion.qStep(chain, t: Array(repeating: step, count: n),
                                    noise: Tensor.randn([n, 2], using: &rng))                    // [n, 2]
            guard checkpoints.contains(step) else { continue }
            let closed = diffusion.qSample(x0, t: Array(repeating: step, count: n), using: &rng)   // [n, 2]
            let ab = Double(diffusion.schedule.doubleArrays.alphasCumprod[step])
            // The y coordinate carries the signal; both coordinates share the variance.
            let meanChain = Double(chain.select(1, axis: 1).mean().item)
            let meanClosed = Double(closed.select(1, axis: 1).mean().item)
            let varChain = Double(chain.variance(axes: [0]).mean().item)
            let varClosed = Double(closed.variance(axes: [0]).mean().item)
            let seMean = ((1 - ab) / Double(n)).squareRoot()
            let seVar = (1 - ab) * (2 / Double(n - 1)).squareRoot() / 2.0.squareRoot()   // mean of 2 coordinates
            let zMean = (meanChain - meanClosed) / (2.0.squareRoot() * seMean)
            let zVar = (varChain - varClosed) / (2.0.squareRoot() * seVar)
            worst = max(worst, abs(zMean), abs(zVar))
            print(String(format: "%5d  %10.5f  %11.5f  %11.5f  %7.1e %5.2f  |  %8.5f  %9.5f  %10.5f  %7.1e %5.2f",
                         step, 4 * ab.squareRoot(), meanChain, meanClosed, seMean, zMean,
                         1 - ab, varChain, varClosed, seVar, zVar))
        }
        print(String(format: "check: largest |z| = %.2f (below 4 means the two agree within sampling error): %@",
                     worst, worst < 4 ? "PASS" : "FAIL"))

        // MARK: 2. The 2-D clusters diffusing
        //
        // The 8000 points of Chapter 1 go through the same chain; we draw every `every`
        // steps on fixed axes. Slow drift at first (small β), fast at the end. At t = T the
        // cloud should look like N(0, I) — the dashed circle is its 2σ radius — but with
        // T = 250 and a linear schedule it is not quite there yet (Chapter 2: √ᾱ_T = 0.28).
        let data = ToyDatasets.clusters(perCluster: common.quick ? 250 : 1000, using: &rng)
        let colors = data.labels.map { Color.cluster($0) }
        var x = data.points                                                               // [N, 2]
        var frames: [Canvas] = [], stills: [(Int, Tensor)] = [(0, x)]
        let stillSteps = Set([T / 5, 2 * T / 5, 3 * T / 5, 4 * T / 5, T].filter { $0 > 0 })
        frames.append(scatterFrame(x, colors: colors, t: 0))
        for step in 1...T {
            x = diffusion.qStep(x, t: Array(repeating: step - 1, count: x.shape[0]),
                                noise: Tensor.randn(x.shape, using: &rng))                  // x_step
            if step % every == 0 || step == T { frames.append(scatterFrame(x, colors: colors, t: step)) }
            if stillSteps.contains(step) { stills.append((step, x)) }
        }
        let finalMean = x.mean(axis: 0).data, finalVar = x.variance(axes: [0]).data
        // Var(x_T) = ᾱ_T Var(x_0) + (1 − ᾱ_T): the data's own spread (6 per coordinate) still shows.
        let abT = diffusion.schedule.alphasCumprod.data[T - 1]
        let expected = data.points.variance(axes: [0]).data.map { abT * $0 + 1 - abT }
        print(String(format: "\n2-D data at t = T: mean (%.3f, %.3f), variance (%.3f, %.3f); "
                     + "expected variance (%.3f, %.3f); N(0, I) has 1",
                     finalMean[0], finalMean[1], finalVar[0], finalVar[1], expected[0], expected[1]))
        let topCluster = x.indexSelect(Array(0..<(data.count / 8)), axis: 0).mean(axis: 0).data
        print(String(format: "the top cluster (started at (0, 4)) now has mean (%.2f, %.2f): √ᾱ_T · 4 = %.2f",
                     topCluster[0], topCluster[1], 4 * diffusion.schedule.sqrtAlphasCumprod.data[T - 1]))
        try writeGIF(frames, delay: 12, "forward_2d.gif", out)
        try stillsFigure(stills, colors: colors).writePNG(to: out.file("forward_2d.png"))
        print("wrote \(out.display("forward_2d.png"))")

        // MARK: 3. A photograph, noised in closed form
        //
        // Resize(128) + CenterCrop(128) + ToTensor + (x·2 − 1), as in the Annotated Diffusion
        // cat demo, then x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε for t = 0, 50, 100, 150, 199 under a
        // linear and a cosine schedule with the post's T = 300. One ε for everything, so the rows
        // differ only by the schedule. (The photo was read first, by Command.swift's loadPhoto,
        // so a bad --image fails before any output.)
        //
        // The cosine schedule is defined through t/T, so it always spends the whole chain; the
        // linear β's are the same 1e-4 … 0.02 whatever T is, so a short linear chain is gentler
        // overall. At T = 300 the cosine row keeps more of the cat early on (√ᾱ = 0.96 and 0.86
        // at t = 50 and 100, against 0.96 and 0.84), the two meet near t = 200 (0.50 and 0.51), and
        // at the end cosine has left nothing while linear still keeps 0.22 (Chapter 2's lesson).
        // At T = 200 (--image-timesteps 200, the MindSpore port's) the linear chain never gets far
        // (√ᾱ_T = 0.36), and the cosine row is the noisier one from the start.
        let cat = [try NoiseSchedule(.linear, timesteps: imageTimesteps),
                   try NoiseSchedule(.cosine, timesteps: imageTimesteps)].map(GaussianDiffusion.init(schedule:))
        let eps = Tensor.randn(photo.shape, using: &rng)                                     // [1, 3, S, S]
        let shown = [0, 50, 100, 150, 199]
        let cells = cat.map { d in
            shown.map { t in ("t = \(t)", d.qSample(photo, t: [t], noise: eps)) }           // [1, 3, S, S] each
        }
        let grid = photoGrid(cells, rowLabels: cat.map { "\($0.schedule.kind.rawValue), T = \($0.timesteps)" })
        try grid.writePNG(to: out.file("cat_noised.png"))
        print("\nwrote \(out.display("cat_noised.png"))")
        // The same at every catStep-th t (4, --quick 10, and the last), the schedules side by side.
        try writeGIF(photoFrames(cat, photo: photo, noise: eps), delay: 4, "cat_forward.gif", out)
        for d in cat {
            let s = d.schedule
            print(String(format: "%@ T = %d: sqrt(ab) at t = 50, 100, 199, %d: %.3f, %.3f, %.3f, %.4f",
                         s.kind.rawValue, s.timesteps, s.timesteps - 1, s.sqrtAlphasCumprod.data[50],
                         s.sqrtAlphasCumprod.data[100], s.sqrtAlphasCumprod.data[199],
                         s.sqrtAlphasCumprod.data[s.timesteps - 1]))
        }

        // MARK: 4. Going back one step: the posterior (checkPosterior, below)
        try checkPosterior(diffusion, samples: 4 * n, using: &rng)
    }

    // MARK: 4. Going back one step: the posterior q(x_{t−1} | x_t, x_0)
    //
    // Sampling will have to undo the chain one step at a time. Given x_0, the forward process
    // makes x_{t−1} and x_t jointly Gaussian, so by Bayes' rule x_{t−1} given x_t (and x_0) is
    // Gaussian too, with a mean that is a straight line in x_0 and x_t (DDPM Eq. 6–7):
    //
    //     q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I)
    //     μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0  +  √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t
    //     β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t
    //
    // Checked by simulation: draw many (x_{t−1}, x_t) pairs from one x_0 and fit a straight line
    // of x_{t−1} against x_t. For jointly Gaussian variables the conditional mean *is* that line,
    // so its slope must be the x_t coefficient, its height at x_t = 0 the x_0 term, and the
    // scatter around it β̃_t.
    //
    // Then the form the network will use. Eq. 4 solved for x_0 is x_0 = (x_t − √(1 − ᾱ_t) ε)/√ᾱ_t;
    // put into μ̃_t, the x_0 disappears (DDPM Eq. 10–11):
    //
    //     μ̃_t = 1/√α_t · (x_t − β_t/√(1 − ᾱ_t) · ε)
    //
    // The step back needs only x_t and the noise in it: a network that predicts ε from x_t gives
    // the reverse process (Chapter 4).
    func checkPosterior(_ diffusion: GaussianDiffusion, samples m: Int, using rng: inout RandomGenerator) throws {
        let s = diffusion.schedule.doubleArrays, T = diffusion.timesteps
        let x0Value: Float = 4                                                   // the top cluster's y
        print("\nPosterior check: \(m) pairs (x_{t-1}, x_t) from x_0 = \(x0Value); fit the line x_{t-1} = a + b x_t.")
        print("(Eq. 7): slope b = coefficient of x_t, height a = coefficient of x_0 times x_0, scatter = beta~_t")
        print("    t   slope b     (Eq. 7)       s.e.  |   height a      (Eq. 7)       s.e.  |"
              + "   scatter     (Eq. 7)      s.e.  | eps form")
        var worst = 0.0
        for t in Set([1, T / 10, T / 2, T - 1]).filter({ $0 >= 1 && $0 < T }).sorted() {
            // x_{t−1} ~ q(x_{t−1} | x_0), then one forward step to x_t (index t is the paper's t + 1).
            let x0 = Tensor.full([m, 1], x0Value)                    // [m, 1]
            let e1 = Tensor.randn([m, 1], using: &rng), e2 = Tensor.randn([m, 1], using: &rng)
            let abPrev = Float(s.alphasCumprodPrev[t])
            let xPrev = x0 * abPrev.squareRoot() + e1 * (1 - abPrev).squareRoot()    // [m, 1]
            let xt = diffusion.qStep(xPrev, t: Array(repeating: t, count: m), noise: e2)  // [m, 1]
            // Least squares in Double: b = cov(x_t, x_{t−1}) / var(x_t), a = mean − b · mean.
            let u = xt.data.map(Double.init), v = xPrev.data.map(Double.init)
            let mu = u.reduce(0, +) / Double(m), mv = v.reduce(0, +) / Double(m)
            var suu = 0.0, suv = 0.0
            for i in 0..<m { suu += (u[i] - mu) * (u[i] - mu); suv += (u[i] - mu) * (v[i] - mv) }
            let b = suv / suu, a = mv - b * mu
            let scatter = zip(u, v).map { (ui, vi) in (vi - a - b * ui) * (vi - a - b * ui) }.reduce(0, +)
                / Double(m - 2)
            let seB = (scatter / suu).squareRoot()
            let seA = (scatter * (1 / Double(m) + mu * mu / suu)).squareRoot()
            let seS = scatter * (2 / Double(m - 2)).squareRoot()
            let wantB = s.posteriorMeanCoef2[t], wantA = s.posteriorMeanCoef1[t] * Double(x0Value)
            let wantS = s.posteriorVariance[t]
            worst = max(worst, abs(b - wantB) / seB, abs(a - wantA) / seA, abs(scatter - wantS) / seS)
            // The ε form against Eq. 7, pair by pair, with ε read off x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε.
            let mean = diffusion.qPosteriorMeanVariance(x0: x0, xt: xt,
                                                        t: Array(repeating: t, count: m)).mean     // [m, 1]
            let eps = (xt - x0 * Float(s.sqrtAlphasCumprod[t])) / Float(s.sqrtOneMinusAlphasCumprod[t])        // [m, 1]
            let epsForm = (xt - eps * Float(s.betas[t] / s.sqrtOneMinusAlphasCumprod[t])) * Float(s.sqrtRecipAlphas[t])
            let gap = zip(mean.data, epsForm.data).map { abs($0 - $1) }.max() ?? 0
            print(String(format: "%5d  %8.5f  (%8.5f)  %9.1e  |  %9.5f  (%9.5f)  %9.1e  |"
                         + "  %8.6f  (%8.6f)  %8.1e  | %.0e",
                         t, b, wantB, seB, a, wantA, seA, scatter, wantS, seS, gap))
        }
        print(String(format: "check: largest |z| = %.2f (below 4: the simulation agrees with Eq. 6-7): %@",
                     worst, worst < 4 ? "PASS" : "FAIL"))
        print("eps form: largest |mu~(x_0, x_t) - 1/sqrt(alpha_t) (x_t - beta_t/sqrt(1-ab_t) eps)| per t, "
              + "float rounding only")
    }
}
