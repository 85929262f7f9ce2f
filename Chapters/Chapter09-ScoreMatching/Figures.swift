import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - The chapter's figures

/// Both coordinates of a [N, 2] tensor.
func coordinates(_ points: Tensor) -> (xs: [Float], ys: [Float]) {
    ((0..<points.shape[0]).map { points.data[2 * $0] }, (0..<points.shape[0]).map { points.data[2 * $0 + 1] })
}

/// The points of a 19 × 19 grid over [−6, 6]² [361, 2].
let fieldGrid: Tensor = {
    let ticks = (0..<19).map { -6 + Float($0) * 12 / 18 }
    return Tensor(ticks.flatMap { y in ticks.flatMap { x in [x, y] } }, shape: [361, 2])
}()

/// The range of log₁₀ ‖score‖ the colour bar spans.
let magnitudeRange = -1.0...3.0

/// A score field as arrows of one length (0.5) in the score's direction, coloured by log₁₀
/// of its size: the direction says where probability increases, the colour how steeply.
func fieldPanel(_ ax: Axes, field: Tensor, title: String, centres: [(x: Float, y: Float)]) {
    ax.title = title
    ax.equalAspect = true
    ax.xLimits = -6.6...6.6
    ax.yLimits = -6.6...6.6
    let (gx, gy) = coordinates(fieldGrid), (u, v) = coordinates(field)
    let size: [Double] = zip(u, v).map { max(1e-12, Double(($0.0 * $0.0 + $0.1 * $0.1).squareRoot())) }
    let colors = size.map { Colormap.viridis((log10($0) - magnitudeRange.lowerBound) / 4) }
    let du: [Double] = zip(u, size).map { 0.5 * Double($0.0) / $0.1 }          // length 0.5 in the score's direction
    let dv: [Double] = zip(v, size).map { 0.5 * Double($0.0) / $0.1 }
    ax.arrows(gx.map(Double.init), gy.map(Double.init), du, dv, colors: colors, width: 1.2)
    ax.markers(centres.map(\.x), centres.map(\.y), marker: .cross, color: .tab(3), size: 7, width: 1.5)
    ax.colorbar = (.viridis, magnitudeRange, "log₁₀ ‖score‖")
}

/// The exact score of the clusters at three noise levels.
func scoreFieldFigure(_ p: GaussianMixture2D, sigmas: [Double]) -> Figure {
    let fig = Figure(rows: 1, cols: sigmas.count, panelWidth: 430, panelHeight: 400)
    fig.title = "The score ∇ log p_σ(x) of the 8 clusters, exact (arrows: direction; colour: size)"
    for (i, sigma) in sigmas.enumerated() {
        fieldPanel(fig[0, i], field: p.score(fieldGrid, sigma: sigma), title: String(format: "σ = %g", sigma),
                   centres: p.floatCentres)
    }
    return fig
}

/// Exact (top row) against learned (bottom row) fields at the same levels.
func fieldComparisonFigure(exact: (Tensor, Double) -> Tensor, learned: (Tensor, Double) -> Tensor, sigmas: [Double],
                           learnedName: String, levelName: String = "σ") -> Figure {
    let fig = Figure(rows: 2, cols: sigmas.count, panelWidth: 430, panelHeight: 400)
    fig.title = "Exact score (top) and \(learnedName) (bottom)"
    for (i, level) in sigmas.enumerated() {
        let label = String(format: "%@ = %g", levelName, level)
        fieldPanel(fig[0, i], field: exact(fieldGrid, level), title: "exact, " + label, centres: [])
        fieldPanel(fig[1, i], field: learned(fieldGrid, level), title: "learned, " + label, centres: [])
    }
    return fig
}

/// One panel of points in the ±6 box, coloured by their nearest centre, with `subtitle` under it.
func pointsPanel(_ ax: Axes, _ points: Tensor, centres: [(x: Float, y: Float)], title: String, subtitle: String) {
    ax.title = title
    ax.xLabel = subtitle
    ax.equalAspect = true
    ax.xLimits = -6.5...6.5
    ax.yLimits = -6.5...6.5
    let labels = Toy2DMetrics.nearestCentres(points, centres: centres).index
    let (xs, ys) = coordinates(points)
    ax.scatter(xs, ys, colors: labels.map(Color.cluster), size: 1.6, alpha: 0.8)
    ax.markers(centres.map(\.x), centres.map(\.y), marker: .cross, color: .black, size: 7, width: 1.5)
}

/// Samples of the unequal mixture, plain Langevin and annealed Langevin, both with its exact score.
func langevinFigure(target: Tensor, plain: Tensor, annealed: Tensor, centres: [(x: Float, y: Float)]) -> Figure {
    let fig = Figure(rows: 1, cols: 3, panelWidth: 400, panelHeight: 430)
    fig.title = "Langevin dynamics with the exact score; the cluster at (4, 0) holds 30 % of the mass, the others 10 %"
    for (i, (name, x)) in [("samples of p", target), ("plain Langevin from uniform", plain),
                           ("annealed Langevin from uniform", annealed)].enumerated() {
        let shares = Toy2DMetrics.shares(Toy2DMetrics.nearestCentres(x, centres: centres).index, count: centres.count)
        pointsPanel(fig[0, i], x, centres: centres, title: name,
                    subtitle: String(format: "cluster at (4, 0): %.1f %%", 100 * shares[0]))
    }
    return fig
}

/// The four samplers' points with their numbers.
func samplersFigure(_ panels: [(String, Tensor, Toy2DMetrics)], centres: [(x: Float, y: Float)]) -> Figure {
    let fig = Figure(rows: 1, cols: panels.count, panelWidth: 400, panelHeight: 430)
    fig.title = "Four samplers of the 8 clusters (numbers: within 0.5 of a centre, energy distance and, in brackets, the score of real data)"
    for (i, (name, x, m)) in panels.enumerated() {
        pointsPanel(fig[0, i], x, centres: centres, title: name,
                    subtitle: String(format: "in 0.5: %.1f %%   ED %.4f (%.4f)", 100 * m.withinRadius,
                                     m.energyDistance, m.energyDistanceFloor))
    }
    return fig
}
