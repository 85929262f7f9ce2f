import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - The figures

/// 10 × 8 grids (one row per class, named on the left), one per strength, two side by side per
/// row of panels, so the figure stays readable at a README's width.
func gridsFigure(_ grids: [(String, Tensor)], title: String, perRow: Int = 2) -> Canvas {
    let label = 100, gap = 24, top = 40, heading = 24
    let pictures = grids.map { ImageGrid.make($0.1, nrow: 8, padding: 2, scale: 2) }
    let panelWidth = pictures.map(\.width).max() ?? 0, panelHeight = pictures.map(\.height).max() ?? 0
    let columns = min(perRow, max(1, grids.count)), panelRows = (grids.count + columns - 1) / columns
    let width = columns * (label + panelWidth + gap)
    let height = top + panelRows * (heading + panelHeight + gap)
    var canvas = Canvas(width: width, height: height)
    canvas.text(title, x: width / 2, y: 16, anchor: TextAnchor(.center, .middle))
    let rows = ((grids.first?.1.shape[0] ?? 0) + 7) / 8                         // row k asks for class k
    let rowHeight = Double(panelHeight) / Double(max(1, rows))
    for (i, (picture, grid)) in zip(pictures, grids).enumerated() {
        let x = (i % columns) * (label + panelWidth + gap) + label
        let y = top + (i / columns) * (heading + panelHeight + gap) + heading
        canvas.text(grid.0, x: x + picture.width / 2, y: y - 12, anchor: TextAnchor(.center, .middle))
        for (k, name) in FashionMNIST.classNames.enumerated() where k < rows {
            canvas.text(name, x: x - 8, y: y + Int((Double(k) + 0.5) * rowHeight), anchor: TextAnchor(.right, .middle))
        }
        canvas.draw(picture, x: x, y: y)
    }
    return canvas
}

/// Accuracy (left), the defective samples (middle) and classifier-FID (right) against the
/// strength: classifier-free guidance against w (top), classifier guidance against s (bottom).
/// The accuracy counts a defective sample (empty or saturated) as wrong; the dotted line leaves
/// those out.
func tradeoffFigure(_ rows: [Row]) -> Figure {
    let fig = Figure(rows: 2, cols: 3, panelWidth: 460, panelHeight: 340)
    fig.title = "What guidance buys (the asked class) and costs (variety): the same x_T at every strength"
    for (k, (kind, symbol)) in [("classifier-free", "w"), ("classifier", "s")].enumerated() {
        let r = rows.filter { $0.guidance == kind }
        guard !r.isEmpty else { continue }
        let xs = r.map(\.scale)
        let (left, middle, right) = (fig[k, 0], fig[k, 1], fig[k, 2])
        left.line(xs, r.map { 100 * $0.accuracy }, label: "asked class, judged either way", color: .tab(k))
        left.markers(xs, r.map { 100 * $0.accuracy }, marker: .disc, color: .tab(k), size: 5, width: 1)
        if r.allSatisfy({ $0.garmentAccuracy != nil && $0.defective != nil }) {
            left.line(xs, r.map { 100 * $0.garmentAccuracy! }, label: "the same, defective samples left out", color: .tab(k),
                      dash: [2, 3])
            middle.line(xs, r.map { 100 * $0.empty! }, label: "empty", color: .tab(3))
            middle.markers(xs, r.map { 100 * $0.empty! }, marker: .square, color: .tab(3), size: 4, width: 1)
            middle.line(xs, r.map { 100 * $0.saturatedImages! }, label: "saturated (frame filled)", color: .gray(0.4), dash: [6, 4])
            middle.title = "\(kind): samples that are no garment"
            middle.xLabel = "guidance scale \(symbol)"
            middle.yLabel = "share of the samples (%)"
            middle.yLimits = 0...max(10, 100 * (r.map { $0.defective! }.max() ?? 0) * 1.2)
            middle.xTickValues = xs
            middle.legend = .upperLeft
        }
        if r.allSatisfy({ $0.accuracyAsDrawn != nil }) {
            let asDrawn = r.map { 100 * $0.accuracyAsDrawn! }
            left.line(xs, asDrawn, label: "as drawn (mirrored shoes: bags)", color: .gray(0.5), dash: [6, 4])
            left.markers(xs, asDrawn, marker: .disc, color: .gray(0.5), size: 3, width: 1)
        }
        left.title = "\(kind): the asked class (Chapter 6's classifier)"
        left.legend = .best
        left.xLabel = "guidance scale \(symbol)"
        left.yLabel = "share of the samples (%)"
        left.yLimits = 0...100
        left.xTickValues = xs
        right.line(xs, r.map(\.fid), color: .tab(k))
        right.markers(xs, r.map(\.fid), marker: .disc, color: .tab(k), size: 5, width: 1)
        right.hline(r[0].floor, color: .gray(0.5), dash: [2, 3], label: String(format: "real images (%.1f)", r[0].floor))
        right.title = "\(kind): classifier-FID"
        right.xLabel = "guidance scale \(symbol)"
        right.yLabel = "classifier-FID (lower is better)"
        right.yScale = .log
        right.legend = .best
        right.xTickValues = xs
    }
    return fig
}
