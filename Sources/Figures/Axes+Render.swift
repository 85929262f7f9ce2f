import Foundation

/// Drawing one panel: layout from text extents, grid, data, frame, ticks, labels, legend.
///
/// Margins are measured, not guessed: the left margin is the widest y tick label plus the
/// rotated y label, the bottom margin is a line of tick labels plus the x label, and the
/// x ticks are thinned until their labels no longer touch, so no text is ever clipped or
/// overlapping.
extension Axes {
    static let pad = 8, tickLength = 4, tickGap = 3, lineHeight = BitmapFont.glyphHeight

    /// Renders the panel into `frame` of `canvas`.
    func render(into canvas: inout Canvas, frame: PixelRect) {
        let h = Axes.lineHeight, pad = Axes.pad
        let heat = heatmapItem
        let top = frame.y + pad + (title != nil ? h + 8 : 0)
        let bottom = frame.maxY - pad - (showAxes ? Axes.tickLength + Axes.tickGap + h : 0) - (xLabel != nil ? h + 6 : 0)
        let plotHeight = max(10, bottom - top)

        var (xRange, yRange) = limits()
        // y ticks first: their widest label decides the left margin.
        var yMap = AxisMap(low: yRange.lowerBound, high: yRange.upperBound, scale: yScale,
                           start: Double(top + plotHeight), end: Double(top))
        if yInverted { swap(&yMap.start, &yMap.end) }
        let yMaxCount = max(2, plotHeight / 42)
        var yTicks = yMap.ticks(maxCount: yMaxCount)
        let yLabelWidth = yTicks.labels.map { BitmapFont.width(of: $0) }.max() ?? 0
        var left = frame.x + pad + (yLabel != nil ? h + 8 : 0)
        if showAxes { left += yLabelWidth + Axes.tickGap + Axes.tickLength }
        var right = frame.maxX - pad - colorbarWidth(heat, plotHeight: plotHeight)

        // x ticks: the most that fit with their labels apart; widen the right margin if
        // the last label would stick out of the panel.
        var xMap = AxisMap(low: xRange.lowerBound, high: xRange.upperBound, scale: xScale,
                           start: Double(left), end: Double(right))
        var xTicks = xMap.ticks(maxCount: 2)
        for _ in 0..<2 {
            xMap.end = Double(right)
            xTicks = fittingTicks(xMap, width: right - left)
            if showAxes, let last = xTicks.major.last, let label = xTicks.labels.last {
                let overhang = Int(xMap.pixel(last)) + BitmapFont.width(of: label) / 2 - (frame.maxX - 2)
                if overhang > 0 { right -= overhang; continue }
            }
            break
        }
        let plot = PixelRect(x: left, y: top, width: max(10, right - left), height: plotHeight)

        if equalAspect && xScale == .linear && yScale == .linear {
            (xRange, yRange) = Axes.equalized(xRange, yRange, plot: plot)
            xMap.low = xRange.lowerBound
            xMap.high = xRange.upperBound
            yMap.low = yRange.lowerBound
            yMap.high = yRange.upperBound
            xTicks = fittingTicks(xMap, width: plot.width)
            yTicks = yMap.ticks(maxCount: yMaxCount)
        }

        if grid && showAxes {
            for v in xTicks.major { canvas.fill(PixelRect(x: Int(xMap.pixel(v)), y: plot.y, width: 1, height: plot.height), color: .grid) }
            for v in yTicks.major { canvas.fill(PixelRect(x: plot.x, y: Int(yMap.pixel(v)), width: plot.width, height: 1), color: .grid) }
        }
        canvas.clip = plot
        drawItems(into: &canvas, plot: plot, x: xMap, y: yMap)
        canvas.clip = nil

        if showAxes {
            canvas.stroke(PixelRect(x: plot.x - 1, y: plot.y - 1, width: plot.width + 2, height: plot.height + 2), color: .ink)
            drawTicks(into: &canvas, plot: plot, x: xMap, y: yMap, xTicks: xTicks, yTicks: yTicks)
        }
        if let xLabel {
            canvas.text(xLabel, x: plot.x + plot.width / 2, y: frame.maxY - pad, anchor: TextAnchor(.center, .bottom))
        }
        if let yLabel {
            canvas.text(yLabel, x: frame.x + pad, y: plot.y + plot.height / 2, rotated: true, anchor: TextAnchor(.left, .middle))
        }
        if let title {
            canvas.text(title, x: plot.x + plot.width / 2, y: frame.y + pad, anchor: TextAnchor(.center, .top))
        }
        if let heat, heat.colorbar { drawColorbar(into: &canvas, plot: plot, heat: heat) }
        if let legend { drawLegend(into: &canvas, plot: plot, position: legend, x: xMap, y: yMap) }
    }

    /// The most x ticks (at most one per 50 pixels) whose labels stay 10 pixels apart.
    private func fittingTicks(_ map: AxisMap, width: Int) -> (major: [Double], labels: [String], minor: [Double]) {
        if let values = xTickValues {
            // The given values inside the axis, left to right, each label 6 pixels clear of the last kept.
            var kept: [(value: Double, label: String)] = []
            let inside = values.filter { $0 >= min(map.low, map.high) && $0 <= max(map.low, map.high) }.sorted()
            for v in inside {
                let label = String(format: "%g", v)
                if let last = kept.last, abs(map.pixel(v) - map.pixel(last.value))
                    < Double(BitmapFont.width(of: label) + BitmapFont.width(of: last.label)) / 2 + 6 { continue }
                kept.append((v, label))
            }
            return (kept.map(\.value), kept.map(\.label), [])
        }
        var count = max(2, width / 50)
        while true {
            let t = map.ticks(maxCount: count)
            let positions = t.major.map(map.pixel)
            let widths = t.labels.map { BitmapFont.width(of: $0) }
            let apart = zip(positions.indices.dropFirst(), positions.indices).allSatisfy { i, j in
                abs(positions[i] - positions[j]) >= Double(widths[i] + widths[j]) / 2 + 10
            }
            if apart || count <= 2 { return t }
            count -= 1
        }
    }

    private func drawTicks(into canvas: inout Canvas, plot: PixelRect, x: AxisMap, y: AxisMap,
                           xTicks: (major: [Double], labels: [String], minor: [Double]),
                           yTicks: (major: [Double], labels: [String], minor: [Double])) {
        let len = Axes.tickLength
        for (v, label) in zip(xTicks.major, xTicks.labels) {
            let px = Int(x.pixel(v))
            canvas.fill(PixelRect(x: px, y: plot.maxY + 1, width: 1, height: len), color: .ink)
            canvas.text(label, x: px + 1, y: plot.maxY + 1 + len + Axes.tickGap, anchor: TextAnchor(.center, .top))
        }
        for v in xTicks.minor {
            canvas.fill(PixelRect(x: Int(x.pixel(v)), y: plot.maxY + 1, width: 1, height: len / 2), color: .ink)
        }
        for (v, label) in zip(yTicks.major, yTicks.labels) {
            let py = Int(y.pixel(v))
            canvas.fill(PixelRect(x: plot.x - 1 - len, y: py, width: len, height: 1), color: .ink)
            canvas.text(label, x: plot.x - 1 - len - Axes.tickGap, y: py - 6, anchor: TextAnchor(.right, .top))
        }
        for v in yTicks.minor {
            canvas.fill(PixelRect(x: plot.x - 1 - len / 2, y: Int(y.pixel(v)), width: len / 2, height: 1), color: .ink)
        }
    }

    /// The x and y ranges to show: fixed limits, the heat-map extent, or the data plus margin.
    func limits() -> (ClosedRange<Double>, ClosedRange<Double>) {
        var xs: [Double] = [], ys: [Double] = []
        var extent: (Double, Double)?
        for item in items {
            switch item {
            case let .line(x, y, _, _, _, _, _), let .scatter(x, y, _, _, _, _), let .markers(x, y, _, _, _, _, _):
                xs += x
                ys += y
            case let .hline(y, _, _, _, _): ys.append(y)
            case let .vline(x, _, _, _, _): xs.append(x)
            case let .heatmap(values, _, _, _, _): extent = (Double(values[0].count), Double(values.count))
            case .image: break
            case let .arrows(x, y, u, v, _, _):
                xs += x + zip(x, u).map { $0 + $1 }
                ys += y + zip(y, v).map { $0 + $1 }
            }
        }
        let x = xLimits ?? (extent.map { 0...$0.0 } ?? AxisMap.autoLimits(xs, scale: xScale, margin: margin))
        let y = yLimits ?? (extent.map { 0...$0.1 } ?? AxisMap.autoLimits(ys, scale: yScale, margin: margin))
        return (x, y)
    }

    /// Widens one range so both axes have the same units per pixel.
    static func equalized(_ x: ClosedRange<Double>, _ y: ClosedRange<Double>, plot: PixelRect)
        -> (ClosedRange<Double>, ClosedRange<Double>) {
        let ux = (x.upperBound - x.lowerBound) / Double(plot.width)
        let uy = (y.upperBound - y.lowerBound) / Double(plot.height)
        let u = max(ux, uy)
        func widen(_ r: ClosedRange<Double>, _ pixels: Int) -> ClosedRange<Double> {
            let c = (r.lowerBound + r.upperBound) / 2, half = u * Double(pixels) / 2
            return (c - half)...(c + half)
        }
        return (widen(x, plot.width), widen(y, plot.height))
    }

    private func drawItems(into canvas: inout Canvas, plot: PixelRect, x: AxisMap, y: AxisMap) {
        for item in items {
            switch item {
            case let .line(xs, ys, color, width, dash, alpha, _):
                let points = zip(xs, ys).map { Point(x.pixel($0), y.pixel($1)) }
                canvas.polyline(points, color: color, width: width, alpha: alpha, dash: dash)
            case let .scatter(xs, ys, colors, size, alpha, _):
                for i in xs.indices {
                    let p = Point(x.pixel(xs[i]), y.pixel(ys[i]))
                    if p.x.isFinite && p.y.isFinite { canvas.fillCircle(center: p, radius: size, color: colors[i], alpha: alpha) }
                }
            case let .markers(xs, ys, marker, color, size, width, _):
                for (a, b) in zip(xs, ys) {
                    let p = Point(x.pixel(a), y.pixel(b))
                    if p.x.isFinite && p.y.isFinite { canvas.marker(marker, at: p, size: size, color: color, width: width) }
                }
            case let .hline(v, color, width, dash, _):
                let py = y.pixel(v).rounded(.down) + 0.5
                canvas.polyline([Point(Double(plot.x), py), Point(Double(plot.maxX), py)], color: color, width: width, dash: dash)
            case let .vline(v, color, width, dash, _):
                let px = x.pixel(v).rounded(.down) + 0.5
                canvas.polyline([Point(px, Double(plot.y)), Point(px, Double(plot.maxY))], color: color, width: width, dash: dash)
            case let .heatmap(values, colormap, range, _, _):
                let (rows, cols) = (values.count, values[0].count)
                let span = range.upperBound - range.lowerBound
                for py in plot.y..<plot.maxY {
                    let r = Int(y.value(Double(py) + 0.5).rounded(.down))
                    guard r >= 0 && r < rows else { continue }
                    for px in plot.x..<plot.maxX {
                        let c = Int(x.value(Double(px) + 0.5).rounded(.down))
                        guard c >= 0 && c < cols else { continue }
                        canvas[px, py] = colormap((values[r][c] - range.lowerBound) / span)
                    }
                }
            case let .arrows(xs, ys, us, vs, colors, width):
                for i in xs.indices {
                    let a = Point(x.pixel(xs[i]), y.pixel(ys[i])), b = Point(x.pixel(xs[i] + us[i]), y.pixel(ys[i] + vs[i]))
                    let (dx, dy) = (b.x - a.x, b.y - a.y), length = hypot(dx, dy)
                    guard a.x.isFinite && a.y.isFinite && b.x.isFinite && b.y.isFinite && length >= 1 else { continue }
                    canvas.line(from: a, to: b, color: colors[i], width: width)
                    let head = max(2.5, length / 4), (ux, uy) = (dx / length, dy / length)
                    for side in [-1.0, 1.0] {               // two barbs at ±30° from the shaft
                        let hx = -ux * 0.866 - side * uy * 0.5, hy = -uy * 0.866 + side * ux * 0.5
                        canvas.line(from: b, to: Point(b.x + head * hx, b.y + head * hy), color: colors[i], width: width)
                    }
                }
            case let .image(picture):
                let fitted = Axes.fitted(picture, width: plot.width, height: plot.height)
                canvas.draw(fitted, x: plot.x + (plot.width - fitted.width) / 2, y: plot.y + (plot.height - fitted.height) / 2)
            }
        }
    }
}
