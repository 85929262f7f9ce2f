// Chapter 2 — Noise schedules and everything derived from them.
//
// The forward process adds a little Gaussian noise at each of T steps (DDPM, Eq. 2):
//
//     q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I)
//
// The variances β_1 … β_T are fixed in advance: the *schedule*. Every other quantity the
// model needs is a function of them, so we compute them once, in Double, and store them as
// Float arrays of length T (Sources/Diffusion/Schedules.swift has each formula):
//
//     α_t = 1 − β_t,   ᾱ_t = α_1 · … · α_t,   q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I)   (Eq. 4)
//
// √ᾱ_t is how much of the data is left at step t; √(1 − ᾱ_t) how much noise. Sampling will
// start from x_T ~ N(0, I), which is only right if √ᾱ_T ≈ 0. Section 4 checks that.
//
// Run:  swift run -c release Chapter02-Schedules        (try --timesteps 250)

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter02: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter02-Schedules",
        abstract: "Linear, quadratic, cosine and sigmoid beta schedules and every derived array.")

    @OptionGroup var common: ChapterOptions

    @Option(parsing: .unconditional, help: "Number of diffusion steps T (the DDPM paper uses 1000).")
    var timesteps = 1000

    @Option(parsing: .unconditional, help: "First beta (the DDPM paper: 1e-4).")
    var betaStart = 1e-4

    @Option(parsing: .unconditional, help: "Last beta (the DDPM paper: 0.02).")
    var betaEnd = 0.02

    @Option(parsing: .unconditional, help: "Comma-separated schedules to compare.")
    var schedules = "linear,quadratic,cosine,sigmoid"

    @Flag(help: "Scale the linear betas by 1000/T (lucidrains' fix for short chains).")
    var rescaleLinear = false

    @Option(parsing: .unconditional, help: "Comma-separated timesteps (0-based) for the printed table.")
    var at = "0,50,100,250,500,750,999"

    @Option(parsing: .unconditional, help: "Comma-separated chain lengths T for the signal-left table.")
    var compareTimesteps = "50,200,250,300,1000"

    func run() throws {
        let clock = Stopwatch()
        // MARK: 1. Build the schedules
        //
        //   linear     β_t = linspace(β_start, β_end, T)               (DDPM)
        //   quadratic  β_t = linspace(√β_start, √β_end, T)²            (InFoCusp, Annotated)
        //   cosine     ᾱ(t) = cos²((t/T + s)/(1 + s) · π/2) / ᾱ(0), s = 0.008,
        //              β_t = 1 − ᾱ(t)/ᾱ(t−1) clipped to [1e-4, 0.9999]          (Nichol & Dhariwal;
        //              the clip is the Annotated code's: the paper clips at 0.999, no lower bound.
        //              β_start and β_end play no part in it.)
        //   sigmoid    β_t = σ(linspace(−6, 6, T)) · (β_end − β_start) + β_start
        try Bounds.check("--timesteps", timesteps, in: 1...100_000, "every array has T entries and the CSV 4·T rows")
        let kinds = try schedules.split(separator: ",").map {
            try BetaSchedule(name: String($0).trimmingCharacters(in: .whitespaces))
        }
        guard !kinds.isEmpty else { throw ChapterError("--schedules is empty; name at least one, e.g. linear.") }
        let built = try kinds.map {
            try NoiseSchedule($0, timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd, rescaleLinear: rescaleLinear)
        }
        let rows = try wholeNumbers(at, option: "--at").filter { $0 < timesteps }
        guard !rows.isEmpty else { throw ChapterError("--at has no timestep below T = \(timesteps); pass values in 0..<\(timesteps).") }
        for T in try wholeNumbers(compareTimesteps, option: "--compare-timesteps") {
            try Bounds.check("each --compare-timesteps value", T, in: 0...100_000)
        }
        let out = try common.start("Chapter02-Schedules")
        print("T = \(timesteps), beta from \(betaStart) to \(betaEnd)\(rescaleLinear ? " (linear rescaled by 1000/T)" : "")")

        // MARK: 2. The table a reader should check
        //
        // At t = 0 the data is almost untouched (ᾱ ≈ 1); the posterior variance β̃ is exactly 0
        // there (nothing to be uncertain about given x_0) and close to β_t later on.
        for s in built {
            print("\n\(s.kind.rawValue) schedule")
            print("    t      beta   alpha_bar   sqrt(ab)  sqrt(1-ab)    post.var         SNR")
            for t in rows {
                print(String(format: "%5d  %8.6f  %10.6f  %9.6f  %10.6f  %10.7f  %10.4g", t,
                             s.betas.data[t], s.alphasCumprod.data[t], s.sqrtAlphasCumprod.data[t],
                             s.sqrtOneMinusAlphasCumprod.data[t], s.posteriorVariance.data[t], s.snr.data[t]))
            }
        }

        // MARK: 3. Figures: betas, alpha-bar, the derived curves, SNR
        let ts = (0..<timesteps).map(Double.init)
        func plot(_ ax: Axes, _ values: (NoiseSchedule) -> Tensor) {
            for (i, s) in built.enumerated() {
                ax.line(ts, values(s).data, label: s.kind.rawValue, color: .tab(i), dash: i == 3 ? [6, 4] : nil)
            }
            ax.xLabel = "t"
        }
        let betaFig = Figure(rows: 1, cols: 2, panelWidth: 520, panelHeight: 380)
        betaFig.title = "Noise schedules, T = \(timesteps)"
        plot(betaFig[0, 0]) { $0.betas }
        betaFig[0, 0].title = "βₜ (cosine leaves the top, clipped at 0.9999)"
        betaFig[0, 0].yLimits = 0...(max(betaEnd, 0.001) * 1.6)
        plot(betaFig[0, 1]) { $0.betas }
        betaFig[0, 1].title = "βₜ, log scale"
        betaFig[0, 1].yScale = .log
        try write(betaFig, "betas.png", out)

        let abFig = Figure(rows: 1, cols: 2, panelWidth: 520, panelHeight: 380)
        plot(abFig[0, 0]) { $0.alphasCumprod }
        abFig[0, 0].title = "ᾱₜ: fraction of the signal's variance left"
        plot(abFig[0, 1]) { $0.sqrtAlphasCumprod }
        abFig[0, 1].title = "√ᾱₜ (thick, falling) and √(1 − ᾱₜ) (thin, rising)"
        abFig[0, 1].legend = .upperRight
        abFig[0, 1].yLimits = -0.03...1.5            // room above the curves for the legend
        for (i, s) in built.enumerated() {
            abFig[0, 1].line(ts, s.sqrtOneMinusAlphasCumprod.data, color: .tab(i), width: 1, alpha: 0.6)
        }
        try write(abFig, "alpha_bar.png", out)

        // Every other derived array, one panel each (names as in the reference code).
        // Each panel zooms on where the schedules differ; the cosine schedule's last steps
        // (β clipped at 0.9999) shoot off some panels, as the titles say.
        let panels: [(String, Axes.Scale, ClosedRange<Double>?, (NoiseSchedule) -> Tensor)] = [
            ("alphas_cumprod_prev = ᾱₜ₋₁", .linear, nil, { $0.alphasCumprodPrev }),
            ("sqrt_recip_alphas = 1/√αₜ (cosine → 100)", .linear, 1...1.012, { $0.sqrtRecipAlphas }),
            ("sqrt_one_minus_alphas_cumprod = √(1 − ᾱₜ)", .linear, nil, { $0.sqrtOneMinusAlphasCumprod }),
            ("log_one_minus_alphas_cumprod = log(1 − ᾱₜ)", .linear, nil, { $0.logOneMinusAlphasCumprod }),
            ("sqrt_recip_alphas_cumprod = 1/√ᾱₜ", .log, nil, { $0.sqrtRecipAlphasCumprod }),
            ("sqrt_recipm1_alphas_cumprod = √(1/ᾱₜ − 1)", .log, nil, { $0.sqrtRecipm1AlphasCumprod }),
            ("posterior_variance β̃ₜ", .log, nil, { $0.posteriorVariance }),
            ("posterior_mean_coef1 (× x₀)", .log, nil, { $0.posteriorMeanCoef1 }),
            ("posterior_mean_coef2 (× xₜ), zoomed", .linear, 0.95...1.0, { $0.posteriorMeanCoef2 }),
        ]
        let derived = Figure(rows: 3, cols: 3, panelWidth: 420, panelHeight: 300)
        derived.title = "Derived arrays (Sources/Diffusion/Schedules.swift has every formula)"
        for (k, (name, scale, limits, values)) in panels.enumerated() {
            let ax = derived[k]
            plot(ax, values)
            ax.title = name
            ax.yScale = scale
            ax.yLimits = limits
            ax.legend = k == 0 ? .best : nil
        }
        try write(derived, "derived.png", out)

        let snrFig = Figure(rows: 1, cols: 1, panelWidth: 640, panelHeight: 420)
        plot(snrFig[0, 0]) { $0.snr }
        snrFig[0, 0].title = "Signal-to-noise ratio SNR(t) = ᾱₜ / (1 − ᾱₜ)"
        snrFig[0, 0].yScale = .log
        snrFig[0, 0].hline(1, label: "SNR = 1")
        try write(snrFig, "snr.png", out)

        // MARK: 4. How much signal is left at t = T?
        //
        // x_T = √ᾱ_T x_0 + √(1 − ᾱ_T) ε. Sampling starts from pure noise N(0, I), so a model
        // trained on a chain with a large √ᾱ_T never saw, at its last step, inputs like the
        // ones it is given at the start of sampling.
        let lengths = try wholeNumbers(compareTimesteps, option: "--compare-timesteps").filter { $0 >= 1 }
        let variants: [(String, BetaSchedule, Bool)] = BetaSchedule.allCases.map { ($0.rawValue, $0, false) }
            + [("linear x1000/T", .linear, true)]
        print("\nSignal left at t = T: sqrt(alpha-bar_T), for beta from \(betaStart) to \(betaEnd)")
        print("T       " + variants.map { $0.0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        for T in lengths {
            var line = String(T).padding(toLength: 8, withPad: " ", startingAt: 0)
            for (_, kind, rescale) in variants {
                let s = try? NoiseSchedule(kind, timesteps: T, betaStart: betaStart, betaEnd: betaEnd, rescaleLinear: rescale)
                line += (s.map { String(format: "%-16.3g", $0.sqrtAlphasCumprod.data[T - 1]) } ?? "beta_end >= 1   ")
            }
            print(line)
        }
        // The sentence a reader should take away, from these options' numbers: the linear
        // schedule at the chain lengths the tutorials use.
        let users = [200: "the MindSpore port", 250: "the 2D tutorial", 300: "the Annotated post", 1000: "DDPM"]
        print("A value near 0 means x_T really is pure noise, as sampling assumes. Linear betas here leave")
        for T in lengths {
            guard let who = users[T], let s = try? NoiseSchedule(.linear, timesteps: T, betaStart: betaStart,
                                                                   betaEnd: betaEnd) else { continue }
            let v = s.sqrtAlphasCumprod.data[T - 1]
            print(String(format: "  %.3g at T = %d (%@): a cluster at radius 4 keeps its mean near %.2f", v, T, who, 4 * v))
        }
        print("A large value means samples that start from N(0, I) begin somewhere training never went;")
        print("use a longer chain, the cosine schedule, or the 1000/T rescale.")

        // √ᾱ_T against T for every schedule: where each curve crosses ~0.01 is "long enough".
        let sweep = stride(from: 10, through: 1000, by: 10).map { $0 }
        let left = Figure(rows: 1, cols: 1, panelWidth: 640, panelHeight: 520)
        let ax = left[0, 0]
        for (i, (label, kind, rescale)) in variants.enumerated() {
            var xs: [Double] = [], ys: [Double] = []
            for T in sweep {
                guard let s = try? NoiseSchedule(kind, timesteps: T, betaStart: betaStart, betaEnd: betaEnd,
                                                  rescaleLinear: rescale) else { continue }
                xs.append(Double(T)); ys.append(Double(s.sqrtAlphasCumprod.data[T - 1]))
            }
            // Linear and sigmoid coincide within 1 %: linear is drawn wide and pale underneath.
            let underneath = kind == .linear && !rescale
            ax.line(xs, ys, label: label, color: .tab(i), width: underneath ? 5 : 1.75,
                    dash: rescale ? [2, 3] : (kind == .sigmoid ? [6, 4] : nil), alpha: underneath ? 0.45 : 1)
        }
        ax.title = "Signal left at the end of the chain, √ᾱ_T (sigmoid lies on linear)"
        ax.xLabel = "chain length T"
        ax.yLabel = "√ᾱ_T"
        ax.yScale = .log
        ax.yLimits = 5e-6...2
        ax.legend = .lowerLeft
        ax.hline(0.01, label: "0.01")
        try write(left, "signal_left.png", out)

        // MARK: 5. Every array as CSV, for your own plots
        var csv = "schedule,t," + built[0].namedArrays.map(\.name).joined(separator: ",") + "\n"
        for s in built {
            let arrays = s.namedArrays.map(\.values.data)
            for t in 0..<timesteps {
                csv += "\(s.kind.rawValue),\(t)," + arrays.map { String(format: "%.9g", $0[t]) }.joined(separator: ",") + "\n"
            }
        }
        try out.write(csv, to: "schedules.csv")
        print("wrote \(out.display("schedules.csv"))")
        print(String(format: "done in %.2f s", clock.seconds))
    }

    /// "0,50,100" → [0, 50, 100]; anything else is one clear sentence.
    func wholeNumbers(_ text: String, option: String) throws -> [Int] {
        try parseList(text, option: option, expects: "whole numbers ≥ 0", example: "0,50,100", maxCount: 100) {
            Int($0).flatMap { $0 >= 0 ? $0 : nil }
        }
    }

    func write(_ fig: Figure, _ name: String, _ out: OutputFolder) throws {
        try fig.writePNG(to: out.file(name))
        print("wrote \(out.display(name))")
    }
}
