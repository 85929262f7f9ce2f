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
//
// This file is the lesson; the options and their checks are in Command.swift, the figures in Figures.swift.

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter02 {
    /// The lesson, top to bottom (the options are declared in Command.swift, which parses the
    /// lists: the schedules to compare, the table's timesteps, section 4's chain lengths).
    func lesson(_ out: OutputFolder, kinds: [BetaSchedule], rows: [Int], lengths: [Int]) throws {
        // MARK: 1. Build the schedules
        //
        //   linear     β_t = linspace(β_start, β_end, T)               (DDPM)
        //   quadratic  β_t = linspace(√β_start, √β_end, T)²            (InFoCusp, Annotated)
        //   cosine     ᾱ(t) = cos²((t/T + s)/(1 + s) · π/2) / ᾱ(0), s = 0.008,
        //              β_t = 1 − ᾱ(t)/ᾱ(t−1) clipped to [1e-4, 0.9999]          (Nichol & Dhariwal;
        //              the clip is the Annotated code's: the paper clips at 0.999, no lower bound.
        //              β_start and β_end play no part in it.)
        //   sigmoid    β_t = σ(linspace(−6, 6, T)) · (β_end − β_start) + β_start
        let built = try kinds.map {
            try NoiseSchedule($0, timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd,
                              rescaleLinear: rescaleLinear)
        }
        print("T = \(timesteps), beta from \(betaStart) to \(betaEnd)"
              + (rescaleLinear ? " (linear rescaled by 1000/T)" : ""))

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
        //
        // One curve per schedule against t (the layouts are in Figures.swift).
        try write(betaFigure(built), "betas.png", out)
        try write(alphaBarFigure(built), "alpha_bar.png", out)
        try write(derivedFigure(built), "derived.png", out)
        try write(snrFigure(built), "snr.png", out)

        // MARK: 4. How much signal is left at t = T?
        //
        // x_T = √ᾱ_T x_0 + √(1 − ᾱ_T) ε. Sampling starts from pure noise N(0, I), so a model
        // trained on a chain with a large √ᾱ_T never saw, at its last step, inputs like the
        // ones it is given at the start of sampling.
        let variants: [(String, BetaSchedule, Bool)] = BetaSchedule.allCases.map { ($0.rawValue, $0, false) }
            + [("linear x1000/T", .linear, true)]
        print("\nSignal left at t = T: sqrt(alpha-bar_T), for beta from \(betaStart) to \(betaEnd)")
        print("T       " + variants.map { $0.0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        for T in lengths {
            var line = String(T).padding(toLength: 8, withPad: " ", startingAt: 0)
            for (_, kind, rescale) in variants {
                let s = try? NoiseSchedule(kind, timesteps: T, betaStart: betaStart, betaEnd: betaEnd,
                                           rescaleLinear: rescale)
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
            print(String(format: "  %.3g at T = %d (%@): a cluster at radius 4 keeps its mean near %.2f",
                         v, T, who, 4 * v))
        }
        print("A large value means samples that start from N(0, I) begin somewhere training never went;")
        print("use a longer chain, the cosine schedule, or the 1000/T rescale.")

        // √ᾱ_T against T for every schedule: where each curve crosses ~0.01 is "long enough".
        let sweep = stride(from: 10, through: 1000, by: 10).map { $0 }
        let curves = variants.map { (_, kind, rescale) in
            sweep.compactMap { T -> (T: Double, left: Double)? in
                guard let s = try? NoiseSchedule(kind, timesteps: T, betaStart: betaStart, betaEnd: betaEnd,
                                                  rescaleLinear: rescale) else { return nil }
                return (Double(T), Double(s.sqrtAlphasCumprod.data[T - 1]))
            }
        }
        try write(signalLeftFigure(variants, curves), "signal_left.png", out)

        // MARK: 5. Every array as CSV, for your own plots
        try saveCSV(built, out)
    }
}
