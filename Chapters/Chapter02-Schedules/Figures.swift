// Chapter 2's figures: the layouts of the PNGs the lesson (Chapter02.swift) writes.

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter02 {
    /// One line per schedule of `values` against t, on `ax`.
    func plot(_ ax: Axes, _ built: [NoiseSchedule], _ values: (NoiseSchedule) -> Tensor) {
        let ts = (0..<timesteps).map(Double.init)
        for (i, s) in built.enumerated() {
            ax.line(ts, values(s).data, label: s.kind.rawValue, color: .tab(i), dash: i == 3 ? [6, 4] : nil)
        }
        ax.xLabel = "t"
    }

    /// β_t, on a linear and a log scale.
    func betaFigure(_ built: [NoiseSchedule]) -> Figure {
        let betaFig = Figure(rows: 1, cols: 2, panelWidth: 520, panelHeight: 380)
        betaFig.title = "Noise schedules, T = \(timesteps)"
        plot(betaFig[0, 0], built) { $0.betas }
        betaFig[0, 0].title = "βₜ (cosine leaves the top, clipped at 0.9999)"
        betaFig[0, 0].yLimits = 0...(max(betaEnd, 0.001) * 1.6)
        plot(betaFig[0, 1], built) { $0.betas }
        betaFig[0, 1].title = "βₜ, log scale"
        betaFig[0, 1].yScale = .log
        return betaFig
    }

    /// ᾱ_t; √ᾱ_t and √(1 − ᾱ_t).
    func alphaBarFigure(_ built: [NoiseSchedule]) -> Figure {
        let ts = (0..<timesteps).map(Double.init)
        let abFig = Figure(rows: 1, cols: 2, panelWidth: 520, panelHeight: 380)
        plot(abFig[0, 0], built) { $0.alphasCumprod }
        abFig[0, 0].title = "ᾱₜ: fraction of the signal's variance left"
        plot(abFig[0, 1], built) { $0.sqrtAlphasCumprod }
        abFig[0, 1].title = "√ᾱₜ (thick, falling) and √(1 − ᾱₜ) (thin, rising)"
        abFig[0, 1].legend = .upperRight
        abFig[0, 1].yLimits = -0.03...1.5            // room above the curves for the legend
        for (i, s) in built.enumerated() {
            abFig[0, 1].line(ts, s.sqrtOneMinusAlphasCumprod.data, color: .tab(i), width: 1, alpha: 0.6)
        }
        return abFig
    }

    /// Every other derived array, one panel each (names as in the reference code).
    /// Each panel zooms on where the schedules differ; the cosine schedule's last steps
    /// (β clipped at 0.9999) shoot off some panels, as the titles say.
    func derivedFigure(_ built: [NoiseSchedule]) -> Figure {
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
            plot(ax, built, values)
            ax.title = name
            ax.yScale = scale
            ax.yLimits = limits
            ax.legend = k == 0 ? .best : nil
        }
        return derived
    }

    /// SNR(t) on a log scale, with the line SNR = 1.
    func snrFigure(_ built: [NoiseSchedule]) -> Figure {
        let snrFig = Figure(rows: 1, cols: 1, panelWidth: 640, panelHeight: 420)
        plot(snrFig[0, 0], built) { $0.snr }
        snrFig[0, 0].title = "Signal-to-noise ratio SNR(t) = ᾱₜ / (1 − ᾱₜ)"
        snrFig[0, 0].yScale = .log
        snrFig[0, 0].hline(1, label: "SNR = 1")
        return snrFig
    }

    /// √ᾱ_T against the chain length T, one curve per variant (label, schedule, rescaled).
    func signalLeftFigure(_ variants: [(String, BetaSchedule, Bool)],
                          _ curves: [[(T: Double, left: Double)]]) -> Figure {
        let left = Figure(rows: 1, cols: 1, panelWidth: 640, panelHeight: 520)
        let ax = left[0, 0]
        for (i, ((label, kind, rescale), curve)) in zip(variants, curves).enumerated() {
            // Linear and sigmoid coincide within 1 %: linear is drawn wide and pale underneath.
            let underneath = kind == .linear && !rescale
            ax.line(curve.map(\.T), curve.map(\.left), label: label, color: .tab(i), width: underneath ? 5 : 1.75,
                    dash: rescale ? [2, 3] : (kind == .sigmoid ? [6, 4] : nil), alpha: underneath ? 0.45 : 1)
        }
        ax.title = "Signal left at the end of the chain, √ᾱ_T (sigmoid lies on linear)"
        ax.xLabel = "chain length T"
        ax.yLabel = "√ᾱ_T"
        ax.yScale = .log
        ax.yLimits = 5e-6...2
        ax.legend = .lowerLeft
        ax.hline(0.01, label: "0.01")
        return left
    }

    /// Writes `fig` as `name` and says so.
    func write(_ fig: Figure, _ name: String, _ out: OutputFolder) throws {
        try fig.writePNG(to: out.file(name))
        print("wrote \(out.display(name))")
    }
}
