import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - The chapter's figures

/// The colour of cluster k, the same as in Chapters 1 and 3.
func clusterColor(_ k: Int) -> Color { Color.cluster(k) }

/// Both coordinates of a [N, 2] tensor.
func coordinates(_ points: Tensor) -> (xs: [Float], ys: [Float]) {
    let n = points.shape[0]
    return ((0..<n).map { points.data[2 * $0] }, (0..<n).map { points.data[2 * $0 + 1] })
}

/// The loss of every step (faint) and its mean per epoch, on a log scale.
func lossFigure(_ losses: [Float], stepsPerEpoch: Int) -> Figure {
    let fig = Figure(rows: 1, cols: 1, panelWidth: 640, panelHeight: 400)
    let ax = fig[0, 0]
    ax.title = "Training loss ‖ε − ε_θ(xₜ, t)‖²"
    ax.xLabel = "epoch"
    ax.yLabel = "MSE"
    ax.yScale = .log
    // Means over blocks of `block` steps (a 50 000-point line would be a solid band).
    let block = max(1, stepsPerEpoch / 10)
    let blocks = losses.count / block
    let blockMeans = (0..<blocks).map { b in losses[b * block ..< (b + 1) * block].reduce(0, +) / Float(block) }
    ax.line((0..<blocks).map { (Double($0) + 0.5) * Double(block) / Double(stepsPerEpoch) }, blockMeans,
            label: "mean of \(block) steps", color: .gray(0.7), width: 1)
    let epochs = losses.count / stepsPerEpoch
    let means = (0..<epochs).map { e in losses[e * stepsPerEpoch ..< (e + 1) * stepsPerEpoch].reduce(0, +) / Float(stepsPerEpoch) }
    ax.line((0..<epochs).map { Double($0) + 0.5 }, means, label: "mean per epoch", color: .tab(0), width: 2)
    ax.legend = .upperRight
    return fig
}

/// Predicted against true noise, one panel per coordinate: a perfect predictor puts every
/// dot on the diagonal. Dots are coloured by t (colour bar); the diagonal is drawn first, so
/// the late steps that sit on it stay visible.
func noiseScatterFigure(predicted: Tensor, truth: Tensor, t: [Int], timesteps: Int) -> Figure {
    let fig = Figure(rows: 1, cols: 2, panelWidth: 470, panelHeight: 420)
    let colors = t.map { Colormap.viridis(Double($0) / Double(max(1, timesteps - 1))) }
    let (px, py) = coordinates(predicted), (tx, ty) = coordinates(truth)
    for (i, (p, q, name)) in [(px, tx, "x₁"), (py, ty, "x₂")].enumerated() {
        let ax = fig[0, i]
        ax.title = "noise of the \(name) coordinate"
        ax.xLabel = "true ε"
        ax.yLabel = "predicted ε_θ(xₜ, t)"
        ax.equalAspect = true
        ax.xLimits = -4...4
        ax.yLimits = -4...4
        ax.line([-4.0, 4.0], [-4.0, 4.0], label: "y = x", color: .gray(0.45), width: 1, dash: [5, 4])
        ax.scatter(q, p, colors: colors, size: 1.6, alpha: 0.5)
        ax.colorbar = (.viridis, 0...Double(max(1, timesteps - 1)), "t")
        ax.legend = .upperLeft
    }
    return fig
}

/// One scatter panel of points in the ±5.5 box, coloured by their nearest centre.
func scatterPanel(_ ax: Axes, _ points: Tensor, centres: [(x: Float, y: Float)], title: String,
                  background: Tensor? = nil, size: Double = 1.8) {
    ax.title = title
    ax.equalAspect = true
    ax.xLimits = -5.5...5.5
    ax.yLimits = -5.5...5.5
    if let background {
        let (bx, by) = coordinates(background)
        ax.scatter(bx, by, color: .gray(0.82), size: 1.4, label: "data")
    }
    let labels = Toy2DMetrics.nearestCentres(points, centres: centres).index
    let (xs, ys) = coordinates(points)
    ax.scatter(xs, ys, colors: labels.map(clusterColor), size: size, alpha: 0.85)
    ax.markers(centres.map(\.x), centres.map(\.y), marker: .cross, color: .black, size: 8, width: 1.5)
    ax.legend = background == nil ? nil : .upperRight
}

/// The final samples over the training data.
func samplesFigure(samples: Tensor, data: Tensor, centres: [(x: Float, y: Float)], metrics: Toy2DMetrics) -> Figure {
    let fig = Figure(rows: 1, cols: 1, panelWidth: 560, panelHeight: 560)
    scatterPanel(fig[0, 0], samples, centres: centres,
                 title: String(format: "%d samples over the data: %.1f%% within 0.5, ED %.3f (real data %.3f)",
                               samples.shape[0], 100 * metrics.withinRadius, metrics.energyDistance,
                               metrics.energyDistanceFloor),
                 background: data)
    return fig
}

/// Frames of the reverse process x_T → x_0, every point coloured by the centre nearest to
/// where it ends, so you can watch each cluster gather out of the noise.
func reverseFrames(_ trajectory: [Tensor], centres: [(x: Float, y: Float)], frames: Int) -> [Canvas] {
    let final = Toy2DMetrics.nearestCentres(trajectory.last!, centres: centres).index
    let colors = final.map(clusterColor)
    let steps = trajectory.count - 1                                   // T
    // Frames closer together near the end, where the clusters form: index T·(1 − (1 − u)²).
    let picks = (0..<frames).map { i -> Int in
        let u = Double(i) / Double(max(1, frames - 1))
        return Int((Double(steps) * (1 - (1 - u) * (1 - u))).rounded())
    }
    return picks.map { k in
        let fig = Figure(rows: 1, cols: 1, panelWidth: 360, panelHeight: 360)
        let ax = fig[0, 0]
        ax.title = "reverse process: t = \(steps - k)"
        ax.equalAspect = true
        ax.xLimits = -5.5...5.5
        ax.yLimits = -5.5...5.5
        let (xs, ys) = coordinates(trajectory[k])
        ax.scatter(xs, ys, colors: colors, size: 1.6)        // opaque dots: few colours, a small GIF
        ax.markers(centres.map(\.x), centres.map(\.y), marker: .cross, color: .black, size: 8, width: 1.5)
        return fig.render()
    }
}

/// A grid of sample panels, one per setting (the first seed's samples), with the mean of
/// every seed's metrics under each.
func ablationFigure(title: String, results: [(name: String, samples: Tensor, metrics: [Toy2DMetrics])],
                    centres: [(x: Float, y: Float)], columns: Int) -> Figure {
    let rows = (results.count + columns - 1) / columns
    let fig = Figure(rows: rows, cols: columns, panelWidth: 400, panelHeight: 430)
    fig.title = title
    for (i, r) in results.enumerated() {
        let n = Double(max(1, r.metrics.count))
        let within = r.metrics.map(\.withinRadius).reduce(0, +) / n
        let energy = r.metrics.map(\.energyDistance).reduce(0, +) / n
        let realData = r.metrics.map(\.energyDistanceFloor).reduce(0, +) / n
        scatterPanel(fig[i / columns, i % columns], r.samples, centres: centres, title: r.name, size: 1.4)
        fig[i / columns, i % columns].xLabel = String(format: "in 0.5: %.1f%%   ED %.3f (floor %.3f)",
                                                      100 * within, energy, realData)
    }
    for i in results.count..<rows * columns {          // the last row's empty places stay blank
        fig[i / columns, i % columns].showAxes = false
        fig[i / columns, i % columns].grid = false
    }
    return fig
}
