import Foundation

/// The legend box and the marker shapes.
extension Axes {
    enum Swatch {
        case line(Color, Double, [Double]?)
        case dot(Color, Double)
        case marker(Marker, Color, Double, Double)
    }

    /// One entry per labelled series, in the order they were added.
    var legendEntries: [(label: String, swatch: Swatch)] {
        items.compactMap { item in
            switch item {
            case let .line(_, _, color, width, dash, _, label?): return (label, .line(color, width, dash))
            case let .hline(_, color, width, dash, label?), let .vline(_, color, width, dash, label?):
                return (label, .line(color, width, dash))
            case let .scatter(_, _, colors, size, _, label?): return (label, .dot(colors.first ?? .tab(0), size))
            case let .markers(_, _, marker, color, size, width, label?): return (label, .marker(marker, color, size, width))
            default: return nil
            }
        }
    }

    /// Draws the legend in a corner of `plot`. `.best` counts, for each corner, the data
    /// points (and points along lines) the box would cover, and takes the emptiest corner.
    func drawLegend(into canvas: inout Canvas, plot: PixelRect, position: LegendPosition, x: AxisMap, y: AxisMap) {
        let entries = legendEntries
        guard !entries.isEmpty else { return }
        let rowHeight = 16, swatchWidth = 24, inner = 6, inset = 6
        let textWidth = entries.map { BitmapFont.width(of: $0.label) }.max() ?? 0
        let width = inner + swatchWidth + 6 + textWidth + inner
        let height = 2 * inner + entries.count * rowHeight - 3
        func box(_ p: LegendPosition) -> PixelRect {
            let left = (p == .upperLeft || p == .lowerLeft) ? plot.x + inset : plot.maxX - inset - width
            let top = (p == .upperLeft || p == .upperRight) ? plot.y + inset : plot.maxY - inset - height
            return PixelRect(x: left, y: top, width: width, height: height)
        }
        var chosen = position
        if position == .best {
            let points = dataPixels(x: x, y: y)
            let corners: [LegendPosition] = [.upperRight, .upperLeft, .lowerLeft, .lowerRight]
            let covered = corners.map { c -> Int in
                let b = box(c)
                return points.reduce(0) { $0 + (b.contains(x: Int($1.x), y: Int($1.y)) ? 1 : 0) }
            }
            chosen = corners[covered.indices.min { covered[$0] < covered[$1] }!]
        }
        let b = box(chosen)
        canvas.fill(b, color: .white, alpha: 0.88)
        canvas.stroke(b, color: Color.gray(0.8))
        for (i, entry) in entries.enumerated() {
            let top = b.y + inner + i * rowHeight
            let mid = Double(top) + 6.5
            let x0 = Double(b.x + inner), x1 = Double(b.x + inner + swatchWidth)
            switch entry.swatch {
            case let .line(color, w, dash):
                canvas.polyline([Point(x0, mid), Point(x1, mid)], color: color, width: w, dash: dash.map { d in d.map { min($0, 5) } })
            case let .dot(color, size):
                canvas.fillCircle(center: Point((x0 + x1) / 2, mid), radius: min(max(size, 3), 5), color: color)
            case let .marker(marker, color, size, w):
                canvas.marker(marker, at: Point((x0 + x1) / 2, mid), size: min(size, 11), color: color, width: w)
            }
            canvas.text(entry.label, x: b.x + inner + swatchWidth + 6, y: top)
        }
    }

    /// Pixel positions of the data: every scatter point and marker, and points every few
    /// pixels along each line.
    private func dataPixels(x: AxisMap, y: AxisMap) -> [Point] {
        var out: [Point] = []
        for item in items {
            switch item {
            case let .scatter(xs, ys, _, _, _, _), let .markers(xs, ys, _, _, _, _, _):
                out += zip(xs, ys).map { Point(x.pixel($0), y.pixel($1)) }
            case let .line(xs, ys, _, _, _, _, _):
                let p = zip(xs, ys).map { Point(x.pixel($0), y.pixel($1)) }.filter { $0.x.isFinite && $0.y.isFinite }
                out += p
                for (a, b) in zip(p, p.dropFirst()) {
                    let n = min(50, Int(hypot(b.x - a.x, b.y - a.y) / 4))
                    if n > 1 { out += (1..<n).map { k in
                        let t = Double(k) / Double(n)
                        return Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
                    } }
                }
            default: break
            }
        }
        return out
    }
}

extension Canvas {
    /// Draws a marker centred on `p`, `size` pixels across, outlined in white so it stays
    /// visible over dense data.
    public mutating func marker(_ marker: Axes.Marker, at p: Point, size: Double, color: Color, width: Double = 2) {
        let r = size / 2
        for (ink, w) in [(Color.white, width + 2), (color, width)] {
            switch marker {
            case .cross:
                polyline([Point(p.x - r, p.y - r), Point(p.x + r, p.y + r)], color: ink, width: w)
                polyline([Point(p.x - r, p.y + r), Point(p.x + r, p.y - r)], color: ink, width: w)
            case .plus:
                polyline([Point(p.x - r, p.y), Point(p.x + r, p.y)], color: ink, width: w)
                polyline([Point(p.x, p.y - r), Point(p.x, p.y + r)], color: ink, width: w)
            case .circle:
                strokeCircle(center: p, radius: r, color: ink, width: w)
            case .disc:
                fillCircle(center: p, radius: r + (ink == .white ? 1 : 0), color: ink)
            case .square:
                polyline([Point(p.x - r, p.y - r), Point(p.x + r, p.y - r), Point(p.x + r, p.y + r),
                          Point(p.x - r, p.y + r), Point(p.x - r, p.y - r)], color: ink, width: w)
            }
        }
    }
}
