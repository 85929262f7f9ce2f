// Chapter 3's figures: the 2-D scatter frames and stills, and the grids of noised photos.

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter03 {
    /// One frame of the 2-D GIF: fixed axes, so the eye sees the cloud spread.
    func scatterFrame(_ points: Tensor, colors: [Color], t: Int) -> Canvas {
        let fig = Figure(rows: 1, cols: 1, panelWidth: 420, panelHeight: 440)
        drawScatter(fig[0, 0], points, colors: colors, t: t)
        return fig.render()
    }

    /// The stills (t, points [N, 2]) side by side, three to a row.
    func stillsFigure(_ stills: [(Int, Tensor)], colors: [Color]) -> Figure {
        let strip = Figure(rows: (stills.count + 2) / 3, cols: min(3, stills.count), panelWidth: 360, panelHeight: 380)
        for (k, (step, points)) in stills.enumerated() { drawScatter(strip[k], points, colors: colors, t: step) }
        return strip
    }

    /// The points [N, 2] at step t on fixed axes, with the dashed 2σ circle of N(0, I).
    func drawScatter(_ ax: Axes, _ points: Tensor, colors: [Color], t: Int) {
        let n = points.shape[0]
        ax.scatter((0..<n).map { points.data[2 * $0] }, (0..<n).map { points.data[2 * $0 + 1] },
                   colors: colors, size: 1.2, alpha: 0.5)
        let circle = (0...72).map { Double($0) * Double.pi / 36 }
        ax.line(circle.map { 2 * cos($0) }, circle.map { 2 * sin($0) }, color: .gray(0.3), width: 1, dash: [4, 4])
        ax.xLimits = -6...6
        ax.yLimits = -6...6
        ax.equalAspect = true
        ax.title = "t = \(t) / \(timesteps)"
        ax.xLabel = "x1"
        ax.yLabel = "x2"
    }

    /// The photo GIF's frames: x_t of `photo` [1, 3, S, S] with `noise` under each of `cat`'s
    /// schedules, side by side, at every `catStep`-th t and the last.
    func photoFrames(_ cat: [GaussianDiffusion], photo: Tensor, noise eps: Tensor) -> [Canvas] {
        var catFrames: [Canvas] = []
        let catTimes = Array(stride(from: 0, to: imageTimesteps, by: catStep))
        for t in catTimes + (catTimes.last == imageTimesteps - 1 ? [] : [imageTimesteps - 1]) {
            let cells = cat.map { d in
                [("\(d.schedule.kind.rawValue) t = \(t)", d.qSample(photo, t: [t], noise: eps))]  // [1, 3, S, S]
            }
            catFrames.append(photoGrid(cells, rowLabels: nil, columns: true, scale: 1))
        }
        return catFrames
    }

    /// Writes `frames` as the GIF `name`, `delay` hundredths of a second each (the last one
    /// stays 1.5 s), and says so.
    func writeGIF(_ frames: [Canvas], delay: Int, _ name: String, _ out: OutputFolder) throws {
        try GIFWriter.write(frames: frames, delays: frames.indices.map { $0 == frames.count - 1 ? 150 : delay },
                            to: out.file(name))
        print("wrote \(out.display(name)) (\(frames.count) frames)")
    }

    /// Photos [1, 3, S, S] in [−1, 1] shown at `scale`× with a caption above each and an optional
    /// label left of each row; `columns` lays the rows out side by side instead (GIF frames).
    func photoGrid(_ cells: [[(String, Tensor)]], rowLabels: [String]?, columns: Bool = false,
                   scale: Int = 2) -> Canvas {
        let side = scale * imageSize, gap = 12, caption = 20, labelWidth = rowLabels == nil ? 0 : 24
        let layout = columns ? cells.flatMap { $0 }.map { [$0] } : cells   // rows of cells
        let nRows = columns ? 1 : layout.count, nCols = columns ? layout.count : layout[0].count
        var canvas = Canvas(width: labelWidth + gap + nCols * (side + gap),
                            height: gap + nRows * (side + caption + gap))
        for r in 0..<nRows {
            for c in 0..<nCols {
                let (text, image) = columns ? layout[c][0] : layout[r][c]
                let x = labelWidth + gap + c * (side + gap), y = gap + r * (side + caption + gap)
                canvas.text(text, x: x + side / 2, y: y, anchor: TextAnchor(.center, .top))
                canvas.draw(ImageGrid.make(image, nrow: 1, padding: 0, scale: scale), x: x, y: y + caption)
            }
            if let rowLabels {
                canvas.text(rowLabels[r], x: 6, y: gap + r * (side + caption + gap) + caption + side / 2,
                            rotated: true, anchor: TextAnchor(.left, .middle))
            }
        }
        return canvas
    }
}
