/// The colour bar of a heat map, and fitting a picture into an image panel.
extension Axes {
    typealias HeatmapInfo = (colormap: Colormap, range: ClosedRange<Double>, colorbar: Bool, label: String?)

    static let colorbarGap = 12, colorbarBar = 14

    /// The (last) heat map of the panel, if any, or else the colour bar set by hand.
    var heatmapItem: HeatmapInfo? {
        for item in items.reversed() {
            if case let .heatmap(_, colormap, range, colorbar, label) = item { return (colormap, range, colorbar, label) }
        }
        if let colorbar { return (colorbar.colormap, colorbar.range, true, colorbar.label) }
        return nil
    }

    private func colorbarTicks(_ heat: HeatmapInfo, plotHeight: Int) -> (major: [Double], labels: [String], minor: [Double]) {
        AxisMap(low: heat.range.lowerBound, high: heat.range.upperBound, scale: .linear, start: 0, end: 1)
            .ticks(maxCount: max(2, plotHeight / 42))
    }

    /// Horizontal space the colour bar needs: gap, bar, ticks, widest label, rotated label.
    func colorbarWidth(_ heat: HeatmapInfo?, plotHeight: Int) -> Int {
        guard let heat, heat.colorbar else { return 0 }
        let labels = colorbarTicks(heat, plotHeight: plotHeight).labels
        let widest = labels.map { BitmapFont.width(of: $0) }.max() ?? 0
        return Axes.colorbarGap + Axes.colorbarBar + Axes.tickLength + Axes.tickGap + widest
            + (heat.label != nil ? Axes.lineHeight + 8 : 0)
    }

    /// Draws the bar to the right of `plot`: low values at the bottom, ticks on the right.
    func drawColorbar(into canvas: inout Canvas, plot: PixelRect, heat: HeatmapInfo) {
        let bar = PixelRect(x: plot.maxX + 1 + Axes.colorbarGap, y: plot.y, width: Axes.colorbarBar, height: plot.height)
        let map = AxisMap(low: heat.range.lowerBound, high: heat.range.upperBound, scale: .linear,
                          start: Double(bar.maxY), end: Double(bar.y))
        for py in bar.y..<bar.maxY {
            let color = heat.colormap((map.value(Double(py) + 0.5) - heat.range.lowerBound)
                                      / (heat.range.upperBound - heat.range.lowerBound))
            canvas.fill(PixelRect(x: bar.x, y: py, width: bar.width, height: 1), color: color)
        }
        canvas.stroke(PixelRect(x: bar.x - 1, y: bar.y - 1, width: bar.width + 2, height: bar.height + 2), color: .ink)
        let ticks = colorbarTicks(heat, plotHeight: plot.height)
        var widest = 0
        for (v, label) in zip(ticks.major, ticks.labels) {
            let py = min(Int(map.pixel(v)), bar.maxY - 1)
            canvas.fill(PixelRect(x: bar.maxX + 1, y: py, width: Axes.tickLength, height: 1), color: .ink)
            let box = canvas.text(label, x: bar.maxX + 1 + Axes.tickLength + Axes.tickGap, y: py - 6)
            widest = max(widest, box.width)
        }
        if let label = heat.label {
            let x = bar.maxX + 1 + Axes.tickLength + Axes.tickGap + widest + 8
            canvas.text(label, x: x, y: bar.y + bar.height / 2, rotated: true, anchor: TextAnchor(.left, .middle))
        }
    }

    /// `picture` scaled to fit `width x height`: the largest whole-number zoom that fits
    /// (nearest neighbour, sharp pixels), or, for pictures larger than the panel, a
    /// box-filtered reduction by the smallest whole-number factor that fits.
    static func fitted(_ picture: Canvas, width: Int, height: Int) -> Canvas {
        let zoom = min(width / picture.width, height / picture.height)
        if zoom >= 1 { return picture.upscaled(by: zoom) }
        var k = 2
        while picture.width / k > width || picture.height / k > height { k += 1 }
        let (w, h) = (picture.width / k, picture.height / k)
        guard w > 0, h > 0 else { return Canvas(width: 1, height: 1) }
        var out = [UInt8](repeating: 0, count: 3 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    var sum = 0
                    for dy in 0..<k {
                        for dx in 0..<k { sum += Int(picture.pixels[3 * ((y * k + dy) * picture.width + x * k + dx) + c]) }
                    }
                    out[3 * (y * w + x) + c] = UInt8((sum + k * k / 2) / (k * k))
                }
            }
        }
        return Canvas(width: w, height: h, pixels: out)
    }
}
