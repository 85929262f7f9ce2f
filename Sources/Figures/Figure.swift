import Foundation

/// A figure: a grid of equally sized panels (`Axes`), rendered to a `Canvas`.
///
///     let fig = Figure(rows: 1, cols: 2, panelWidth: 480, panelHeight: 360)
///     fig[0, 0].title = "Training loss"
///     fig[0, 0].yScale = .log
///     fig[0, 0].line(losses, label: "loss")
///     fig[0, 1].scatter(xs, ys, colors: clusterColors, size: 2, alpha: 0.6)
///     try fig.render().writePNG(to: URL(fileURLWithPath: "output/chapter04/loss.png"))
///
/// For a GIF, build one figure per frame with the same fixed `xLimits` / `yLimits`, render
/// each, and pass the canvases to `GIFWriter.write(frames:...)`.
public final class Figure: PNGWritable {
    public let rows: Int
    public let cols: Int
    public let panelWidth: Int
    public let panelHeight: Int
    /// A title above all panels.
    public var title: String?
    public var background: Color = .white
    private let panels: [Axes]

    /// A figure of `rows x cols` panels, each `panelWidth x panelHeight` pixels.
    public init(rows: Int = 1, cols: Int = 1, panelWidth: Int = 480, panelHeight: Int = 360) {
        precondition(rows >= 1 && cols >= 1, "Figure: rows and cols must be at least 1")
        precondition(panelWidth >= 60 && panelHeight >= 60, "Figure: panels must be at least 60 x 60 pixels")
        self.rows = rows
        self.cols = cols
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
        panels = (0..<rows * cols).map { _ in Axes() }
    }

    /// The panel in row `row`, column `col` (both from 0, row 0 at the top).
    public subscript(row: Int, col: Int) -> Axes {
        precondition(row >= 0 && row < rows && col >= 0 && col < cols,
                     "Figure: panel [\(row), \(col)] outside a \(rows) x \(cols) figure")
        return panels[row * cols + col]
    }

    /// The panel at `index` in reading order (left to right, then top to bottom).
    public subscript(index: Int) -> Axes {
        precondition(index >= 0 && index < panels.count, "Figure: panel \(index) outside 0..<\(panels.count)")
        return panels[index]
    }

    /// Height of the figure title band.
    private var titleHeight: Int { title == nil ? 0 : BitmapFont.glyphHeight + 12 }

    /// Draws every panel; the canvas is `cols * panelWidth` wide and
    /// `rows * panelHeight` (+ a title band) high.
    public func render() -> Canvas {
        var canvas = Canvas(width: cols * panelWidth, height: rows * panelHeight + titleHeight, background: background)
        if let title {
            canvas.text(title, x: canvas.width / 2, y: 8, anchor: TextAnchor(.center, .top))
        }
        for r in 0..<rows {
            for c in 0..<cols {
                let frame = PixelRect(x: c * panelWidth, y: titleHeight + r * panelHeight,
                                      width: panelWidth, height: panelHeight)
                self[r, c].render(into: &canvas, frame: frame)
            }
        }
        return canvas
    }

    /// Renders and writes the figure as a PNG (atomically, creating the folder if needed).
    public func writePNG(to url: URL) throws {
        try render().writePNG(to: url)
    }
}
