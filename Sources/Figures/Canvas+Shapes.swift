import Foundation

/// Anti-aliased shapes.
///
/// Every shape is drawn the same way: for each pixel near the shape, measure the distance
/// `d` from the pixel centre to the shape's centre line (or centre point) and blend the
/// colour with coverage
///
///     coverage = clamp(halfWidth + 0.5 - d, 0, 1)
///
/// which is 1 well inside, 0 well outside, and ramps over one pixel at the edge: a cheap,
/// good approximation of the exact area the shape covers.
extension Canvas {
    /// A straight line from `a` to `b` with round ends.
    public mutating func line(from a: Point, to b: Point, color: Color, width: Double = 1, alpha: Float = 1) {
        polyline([a, b], color: color, width: width, alpha: alpha)
    }

    /// A connected line through `points`, `width` pixels wide, optionally dashed.
    ///
    /// `dash` alternates on and off lengths in pixels (`[6, 4]`: 6 drawn, 4 skipped).
    /// Non-finite points (NaN, infinity) break the line into separate pieces, so a missing
    /// value leaves a gap. Overlapping segments are merged before blending, so joints of a
    /// translucent line are not darker than the rest.
    public mutating func polyline(_ points: [Point], color: Color, width: Double = 1.5,
                                  alpha: Float = 1, dash: [Double]? = nil) {
        var runs: [[Point]] = [[]]
        for p in points {
            if p.x.isFinite && p.y.isFinite && abs(p.x) < 1e7 && abs(p.y) < 1e7 {
                runs[runs.count - 1].append(p)
            } else if !runs[runs.count - 1].isEmpty {
                runs.append([])
            }
        }
        var pieces = runs.filter { !$0.isEmpty }
        if let dash, dash.count >= 2, dash.allSatisfy({ $0 > 0 }) {
            pieces = pieces.flatMap { Canvas.dashed($0, pattern: dash) }
        }
        guard !pieces.isEmpty else { return }

        // Widths under one pixel are drawn one pixel wide and proportionally fainter.
        let half = max(width, 1) / 2
        let fade = Float(min(width, 1)) * alpha
        let reach = half + 1
        var lo = Point(.infinity, .infinity), hi = Point(-.infinity, -.infinity)
        for piece in pieces {
            for p in piece {
                lo = Point(min(lo.x, p.x), min(lo.y, p.y))
                hi = Point(max(hi.x, p.x), max(hi.y, p.y))
            }
        }
        let box = PixelRect(x: Int((lo.x - reach).rounded(.down)), y: Int((lo.y - reach).rounded(.down)),
                            width: Int((hi.x - lo.x + 2 * reach).rounded(.up)) + 1,
                            height: Int((hi.y - lo.y + 2 * reach).rounded(.up)) + 1).intersection(drawable)
        guard box.width > 0, box.height > 0 else { return }

        // Coverage of every pixel in the box: the maximum over all segments.
        var mask = [Float](repeating: 0, count: box.width * box.height)
        for piece in pieces {
            let segments = piece.count == 1 ? [(piece[0], piece[0])] : (1..<piece.count).map { (piece[$0 - 1], piece[$0]) }
            for (a, b) in segments {
                let x0 = max(box.x, Int((min(a.x, b.x) - reach).rounded(.down)))
                let x1 = min(box.maxX - 1, Int((max(a.x, b.x) + reach).rounded(.up)))
                let y0 = max(box.y, Int((min(a.y, b.y) - reach).rounded(.down)))
                let y1 = min(box.maxY - 1, Int((max(a.y, b.y) + reach).rounded(.up)))
                guard x0 <= x1, y0 <= y1 else { continue }
                let dx = b.x - a.x, dy = b.y - a.y
                let len2 = dx * dx + dy * dy
                for y in y0...y1 {
                    let py = Double(y) + 0.5
                    for x in x0...x1 {
                        let px = Double(x) + 0.5
                        var t = len2 > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / len2 : 0
                        t = min(max(t, 0), 1)
                        let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
                        let c = Float(min(max(half + 0.5 - (ex * ex + ey * ey).squareRoot(), 0), 1))
                        let m = (y - box.y) * box.width + (x - box.x)
                        if c > mask[m] { mask[m] = c }
                    }
                }
            }
        }
        for y in box.y..<box.maxY {
            for x in box.x..<box.maxX {
                let c = mask[(y - box.y) * box.width + (x - box.x)]
                if c > 0 { blend(x: x, y: y, color: color, alpha: c * fade) }
            }
        }
    }

    /// Splits a polyline into its "on" pieces for the dash pattern (lengths in pixels).
    static func dashed(_ points: [Point], pattern: [Double]) -> [[Point]] {
        guard points.count >= 2 else { return [points] }
        var pieces: [[Point]] = []
        var current: [Point] = [points[0]]
        var index = 0                 // position in the pattern; even = drawn
        var left = pattern[0]         // length left in the current dash or gap
        for i in 1..<points.count {
            var a = points[i - 1]
            let b = points[i]
            var remaining = hypot(b.x - a.x, b.y - a.y)
            while remaining > left {
                let t = left / remaining
                let cut = Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)
                if index % 2 == 0 {
                    current.append(cut)
                    pieces.append(current)
                } else {
                    current = [cut]
                }
                remaining -= left
                a = cut
                index = (index + 1) % pattern.count
                left = pattern[index]
            }
            left -= remaining
            if index % 2 == 0 { current.append(b) }
        }
        if index % 2 == 0, current.count >= 2 { pieces.append(current) }
        return pieces
    }

    /// A filled disc (a scatter dot). Translucent dots darken where they overlap, as they should.
    public mutating func fillCircle(center: Point, radius: Double, color: Color, alpha: Float = 1) {
        let r = max(radius, 0.5)
        let fade = alpha * Float(min(radius / 0.5, 1))
        let area = drawable
        let x0 = max(area.x, Int((center.x - r - 1).rounded(.down)))
        let x1 = min(area.maxX - 1, Int((center.x + r + 1).rounded(.up)))
        let y0 = max(area.y, Int((center.y - r - 1).rounded(.down)))
        let y1 = min(area.maxY - 1, Int((center.y + r + 1).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            let dy = Double(y) + 0.5 - center.y
            for x in x0...x1 {
                let dx = Double(x) + 0.5 - center.x
                let c = Float(min(max(r + 0.5 - (dx * dx + dy * dy).squareRoot(), 0), 1))
                if c > 0 { blend(x: x, y: y, color: color, alpha: c * fade) }
            }
        }
    }

    /// A circle outline of radius `radius`, `width` pixels thick.
    public mutating func strokeCircle(center: Point, radius: Double, color: Color,
                                      width: Double = 1, alpha: Float = 1) {
        let half = max(width, 1) / 2
        let area = drawable
        let reach = radius + half + 1
        let x0 = max(area.x, Int((center.x - reach).rounded(.down)))
        let x1 = min(area.maxX - 1, Int((center.x + reach).rounded(.up)))
        let y0 = max(area.y, Int((center.y - reach).rounded(.down)))
        let y1 = min(area.maxY - 1, Int((center.y + reach).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            let dy = Double(y) + 0.5 - center.y
            for x in x0...x1 {
                let dx = Double(x) + 0.5 - center.x
                let d = abs((dx * dx + dy * dy).squareRoot() - radius)
                let c = Float(min(max(half + 0.5 - d, 0), 1))
                if c > 0 { blend(x: x, y: y, color: color, alpha: c * alpha) }
            }
        }
    }

    /// A filled rectangle with fractional edges: edge pixels get the covered fraction.
    public mutating func fillRect(x0: Double, y0: Double, x1: Double, y1: Double,
                                  color: Color, alpha: Float = 1) {
        let (left, right) = (min(x0, x1), max(x0, x1))
        let (top, bottom) = (min(y0, y1), max(y0, y1))
        let area = drawable
        let px0 = max(area.x, Int(left.rounded(.down))), px1 = min(area.maxX - 1, Int(right.rounded(.up)) - 1)
        let py0 = max(area.y, Int(top.rounded(.down))), py1 = min(area.maxY - 1, Int(bottom.rounded(.up)) - 1)
        guard px0 <= px1, py0 <= py1 else { return }
        for y in py0...py1 {
            let cy = min(Double(y + 1), bottom) - max(Double(y), top)
            for x in px0...px1 {
                let cx = min(Double(x + 1), right) - max(Double(x), left)
                blend(x: x, y: y, color: color, alpha: alpha * Float(max(0, cx * cy)))
            }
        }
    }
}
