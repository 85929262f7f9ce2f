import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - The figures

extension Chapter07 {
    /// Rows of images [k, 1, 28, 28] with a label left of each row.
    func sideBySide(_ rows: [(String, Tensor)], scale: Int = 3) -> Canvas {
        let label = 170, gap = 6
        let pictures = rows.map { ImageGrid.make($0.1, nrow: $0.1.shape[0], padding: 2, scale: scale) }
        let width = label + (pictures.map(\.width).max() ?? 0) + gap
        var canvas = Canvas(width: width, height: pictures.map { $0.height + gap }.reduce(gap, +))
        var y = gap
        for (picture, row) in zip(pictures, rows) {
            canvas.text(row.0, x: 6, y: y + picture.height / 2, anchor: TextAnchor(.left, .middle))
            canvas.draw(picture, x: label, y: y)
            y += picture.height + gap
        }
        return canvas
    }

    /// Classifier-FID against the number of network evaluations, one line per setting, with
    /// DDPM's score and the score of real data as reference lines.
    func qualityFigure(_ results: [Result], settings: [String], ddpm: Result) -> Figure {
        let fig = Figure(rows: 1, cols: 1, panelWidth: 720, panelHeight: 460)
        let ax = fig[0, 0]
        ax.title = "Quality against steps (\(ddpm.steps)-step DDPM: FID \(String(format: "%.1f", ddpm.fid)))"
        ax.xLabel = "sampling steps = network evaluations per image"
        ax.yLabel = "classifier-FID (lower is better)"
        ax.xScale = .log
        ax.yScale = .log
        for (i, name) in settings.enumerated() {
            let rows = results.filter { $0.name == name }
            ax.line(rows.map { Double($0.steps) }, rows.map(\.fid), label: name, color: .tab(i), dash: i == 1 ? [6, 4] : nil)
            ax.markers(rows.map { Double($0.steps) }, rows.map(\.fid), marker: .disc, color: .tab(i), size: 5, width: 1)
        }
        ax.hline(ddpm.fid, color: .black, label: "DDPM, \(ddpm.steps) steps")
        ax.hline(ddpm.floor, color: .gray(0.5), dash: [2, 3], label: String(format: "real training images (%.1f)", ddpm.floor))
        ax.xTickValues = Array(Set(results.map { Double($0.steps) })).sorted()
        ax.legend = .upperRight
        return fig
    }
}
