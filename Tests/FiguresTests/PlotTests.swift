import Foundation
import Testing
@testable import Figures

@Suite struct PlotTests {
    /// A two-panel figure exercising lines, scatter, markers, log axes, heat map, image.
    func sampleFigure() -> Figure {
        let fig = Figure(rows: 1, cols: 3, panelWidth: 300, panelHeight: 220)
        fig.title = "sample"
        let xs = (0..<200).map { Double($0) }
        fig[0, 0].title = "lines"
        fig[0, 0].xLabel = "step"
        fig[0, 0].yLabel = "loss"
        fig[0, 0].yScale = .log
        fig[0, 0].line(xs, xs.map { 1e6 * exp(-$0 / 20) }, label: "loss")
        fig[0, 0].line(xs, xs.map { $0 - 100 }, label: "non-positive values are skipped")
        fig[0, 1].scatter(xs.map(sin), xs.map(cos), colors: xs.map { .tab(Int($0) % 4) }, size: 2, alpha: 0.5)
        fig[0, 1].markers([0], [0], label: "centre")
        fig[0, 1].equalAspect = true
        fig[0, 2].heatmap((0..<10).map { r in (0..<12).map { Double(r * $0) } }, colorbarLabel: "r * c")
        return fig
    }

    @Test func renderingIsDeterministicAndSized() {
        let a = sampleFigure().render()
        let b = sampleFigure().render()
        #expect(a.width == 900 && a.height == 220 + BitmapFont.glyphHeight + 12)
        #expect(a == b)
        #expect(a.pixels.contains { $0 < 128 })          // something was drawn
    }

    @Test func nothingTouchesThePanelBorders() {
        // Wide tick labels (-1.5e6 ...) and long axis labels must fit inside the panel.
        let fig = Figure(rows: 1, cols: 1, panelWidth: 240, panelHeight: 180)
        fig[0, 0].xLabel = "a rather long x label"
        fig[0, 0].yLabel = "y label"
        fig[0, 0].line([-12345.0, 98765], [-1.5e6, 2.5e6], label: "l")
        fig[0, 0].hline(0)
        let canvas = fig.render()
        for y in 0..<canvas.height {
            for x in [0, 1, 2, canvas.width - 3, canvas.width - 2, canvas.width - 1] {
                #expect(canvas[x, y] == .white, "pixel (\(x), \(y)) at the border is drawn on")
            }
        }
        for x in 0..<canvas.width {
            for y in [0, 1, 2, canvas.height - 3, canvas.height - 2, canvas.height - 1] {
                #expect(canvas[x, y] == .white, "pixel (\(x), \(y)) at the border is drawn on")
            }
        }
    }

    @Test func bestLegendCornerAvoidsTheData() {
        // Points everywhere except the lower-left quarter.
        var xs: [Double] = [], ys: [Double] = []
        for i in 0..<40 {
            for j in 0..<40 where !(i < 20 && j < 20) {
                xs.append(Double(i))
                ys.append(Double(j))
            }
        }
        let fig = Figure(panelWidth: 320, panelHeight: 240)
        fig[0, 0].grid = false
        fig[0, 0].scatter(xs, ys, color: .tab(0), size: 1, label: "points")
        let canvas = fig.render()
        let border = Color.gray(0.8)
        var where_ = [0, 0, 0, 0]                     // upper-left, upper-right, lower-left, lower-right
        for y in 0..<canvas.height {
            for x in 0..<canvas.width where canvas[x, y] == border {
                where_[(y < canvas.height / 2 ? 0 : 2) + (x < canvas.width / 2 ? 0 : 1)] += 1
            }
        }
        #expect(where_[2] > 40 && where_[0] == 0 && where_[1] == 0 && where_[3] == 0, "\(where_)")
    }

    @Test func gifFramesFromFiguresWithFixedAxes() throws {
        let frames = (0..<4).map { k -> Canvas in
            let fig = Figure(panelWidth: 160, panelHeight: 120)
            fig[0, 0].xLimits = -1...1
            fig[0, 0].yLimits = -1...1
            fig[0, 0].title = "t = \(k)"
            fig[0, 0].scatter([Double(k) / 4 - 0.5], [0.0], size: 4)
            return fig.render()
        }
        let url = scratchFolder().appendingPathComponent("frames.gif")
        try GIFWriter.write(frames: frames, delayCentiseconds: 20, to: url)
        let gif = try GIFAnimation.read(from: url)
        #expect(gif.frames == frames)               // plots use few colours: exact palette
    }
}
