/// One panel of a `Figure`: a plot area with axes, ticks, labels, a title and a legend,
/// holding line, scatter and marker series, reference lines, a heat map or an image.
///
/// Series are drawn in the order they are added; each unlabelled colour comes from the
/// default cycle (`Color.tab(0)`, `Color.tab(1)`, ...). Limits are automatic (the data
/// range plus `margin` on each side) unless `xLimits` / `yLimits` are set: set them when
/// rendering the frames of a GIF so every frame has the same axes.
///
///     let ax = fig[0, 0]
///     ax.title = "Noise schedules"
///     ax.xLabel = "t"
///     ax.yLabel = "alpha-bar"
///     ax.line(ts, linear, label: "linear")
///     ax.line(ts, cosine, label: "cosine", dash: [6, 4])
///     ax.hline(0, color: .gray(0.5))
public final class Axes {
    /// Axis scale: linear, or base-10 logarithmic (non-positive values are not drawn).
    public enum Scale { case linear, log }

    /// Where the legend goes; `.best` picks the corner that hides the fewest data points.
    public enum LegendPosition { case best, upperRight, upperLeft, lowerLeft, lowerRight }

    /// Marker shapes for `markers(...)`.
    public enum Marker { case cross, plus, circle, disc, square }

    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var xScale: Scale = .linear
    public var yScale: Scale = .linear
    /// Fixed x range; nil = automatic from the data.
    public var xLimits: ClosedRange<Double>?
    /// Fixed y range; nil = automatic from the data.
    public var yLimits: ClosedRange<Double>?
    /// The x values to tick and label, e.g. where the data are (the sampler steps 10, 50, 100,
    /// 300); nil = round numbers chosen to fit. A label that would touch its left neighbour's is
    /// left out.
    public var xTickValues: [Double]?
    /// Fraction of the data range added on each side of automatic limits (matplotlib: 0.05).
    public var margin: Double = 0.05
    /// Light grid lines at the major ticks.
    public var grid = true
    /// Legend placement, or nil for no legend (shown only when some series has a label).
    public var legend: LegendPosition? = .best
    /// Same number of pixels per unit on both axes (circles stay round): the shorter
    /// range is widened to fill the panel.
    public var equalAspect = false
    /// Draw the frame, ticks and tick labels (off for image panels).
    public var showAxes = true
    /// Draw the y axis from top to bottom (set by `heatmap`, like an image: row 0 on top).
    public var yInverted = false
    /// A colour bar for colours chosen by hand, e.g. a scatter coloured by t with
    /// `colormap(t / T)`: the bar maps `range` onto the colormap. (A heat map brings its own.)
    public var colorbar: (colormap: Colormap, range: ClosedRange<Double>, label: String?)?

    enum Item {
        case line(xs: [Double], ys: [Double], color: Color, width: Double, dash: [Double]?, alpha: Float, label: String?)
        case scatter(xs: [Double], ys: [Double], colors: [Color], size: Double, alpha: Float, label: String?)
        case markers(xs: [Double], ys: [Double], marker: Marker, color: Color, size: Double, width: Double, label: String?)
        case hline(y: Double, color: Color, width: Double, dash: [Double]?, label: String?)
        case vline(x: Double, color: Color, width: Double, dash: [Double]?, label: String?)
        case heatmap(values: [[Double]], colormap: Colormap, range: ClosedRange<Double>, colorbar: Bool, label: String?)
        case image(Canvas)
        case arrows(xs: [Double], ys: [Double], us: [Double], vs: [Double], colors: [Color], width: Double)
    }
    var items: [Item] = []
    private var nextColor = 0

    public init() {}

    private func cycleColor(_ color: Color?) -> Color {
        if let color { return color }
        defer { nextColor += 1 }
        return .tab(nextColor)
    }

    /// A line through the points `(xs[i], ys[i])`.
    /// - Parameters:
    ///   - width: line width in pixels.
    ///   - dash: on/off lengths in pixels, e.g. `[6, 4]`; nil for a solid line.
    @discardableResult
    public func line<X: BinaryFloatingPoint, Y: BinaryFloatingPoint>(
        _ xs: [X], _ ys: [Y], label: String? = nil, color: Color? = nil, width: Double = 1.75,
        dash: [Double]? = nil, alpha: Float = 1) -> Axes {
        precondition(xs.count == ys.count, "line: \(xs.count) x values but \(ys.count) y values")
        items.append(.line(xs: xs.map(Double.init), ys: ys.map(Double.init), color: cycleColor(color),
                           width: width, dash: dash, alpha: alpha, label: label))
        return self
    }

    /// A line through `ys` against their indices 0, 1, 2, ... (a loss curve).
    @discardableResult
    public func line<Y: BinaryFloatingPoint>(_ ys: [Y], label: String? = nil, color: Color? = nil,
                                             width: Double = 1.75, dash: [Double]? = nil, alpha: Float = 1) -> Axes {
        line((0..<ys.count).map(Double.init), ys, label: label, color: color, width: width, dash: dash, alpha: alpha)
    }

    /// Dots at `(xs[i], ys[i])`.
    /// - Parameters:
    ///   - colors: one colour per point (e.g. by cluster); when nil, `color` (or the next
    ///     cycle colour) for all.
    ///   - size: dot radius in pixels.
    ///   - alpha: opacity; below 1 dense regions look darker, showing density.
    @discardableResult
    public func scatter<X: BinaryFloatingPoint, Y: BinaryFloatingPoint>(
        _ xs: [X], _ ys: [Y], colors: [Color]? = nil, color: Color? = nil, size: Double = 2,
        alpha: Float = 1, label: String? = nil) -> Axes {
        precondition(xs.count == ys.count, "scatter: \(xs.count) x values but \(ys.count) y values")
        if let colors {
            precondition(colors.count == xs.count, "scatter: \(colors.count) colours for \(xs.count) points")
        }
        let all = colors ?? Array(repeating: cycleColor(color), count: xs.count)
        items.append(.scatter(xs: xs.map(Double.init), ys: ys.map(Double.init), colors: all,
                              size: size, alpha: alpha, label: label))
        return self
    }

    /// Markers (crosses by default) at `(xs[i], ys[i])`, e.g. cluster centres. Each is
    /// outlined in white so it stays visible on top of dense data.
    @discardableResult
    public func markers<X: BinaryFloatingPoint, Y: BinaryFloatingPoint>(
        _ xs: [X], _ ys: [Y], marker: Marker = .cross, color: Color = .black, size: Double = 10,
        width: Double = 2, label: String? = nil) -> Axes {
        precondition(xs.count == ys.count, "markers: \(xs.count) x values but \(ys.count) y values")
        items.append(.markers(xs: xs.map(Double.init), ys: ys.map(Double.init), marker: marker, color: color,
                              size: size, width: width, label: label))
        return self
    }

    /// A horizontal reference line across the whole panel at height `y`.
    @discardableResult
    public func hline(_ y: Double, color: Color = .gray(0.35), width: Double = 1,
                      dash: [Double]? = [5, 4], label: String? = nil) -> Axes {
        items.append(.hline(y: y, color: color, width: width, dash: dash, label: label))
        return self
    }

    /// A vertical reference line across the whole panel at `x`.
    @discardableResult
    public func vline(_ x: Double, color: Color = .gray(0.35), width: Double = 1,
                      dash: [Double]? = [5, 4], label: String? = nil) -> Axes {
        items.append(.vline(x: x, color: color, width: width, dash: dash, label: label))
        return self
    }

    /// A heat map of `values[row][column]`, row 0 at the top, cell (r, c) covering
    /// x in [c, c+1) and y in [r, r+1). Values map linearly from `range` (default: their
    /// min...max) onto the colormap.
    @discardableResult
    public func heatmap<T: BinaryFloatingPoint>(_ values: [[T]], colormap: Colormap = .viridis,
                                                range: ClosedRange<Double>? = nil, colorbar: Bool = true,
                                                colorbarLabel: String? = nil) -> Axes {
        precondition(!values.isEmpty && !values[0].isEmpty, "heatmap: empty values")
        precondition(values.allSatisfy { $0.count == values[0].count }, "heatmap: rows of different lengths")
        let v = values.map { $0.map(Double.init) }
        let finite = v.joined().filter(\.isFinite)
        var r = range ?? ((finite.min() ?? 0)...(finite.max() ?? 1))
        if r.lowerBound == r.upperBound { r = (r.lowerBound - 0.5)...(r.upperBound + 0.5) }
        items.append(.heatmap(values: v, colormap: colormap, range: r, colorbar: colorbar, label: colorbarLabel))
        yInverted = true
        grid = false
        return self
    }

    /// A vector field (matplotlib's `quiver`): an arrow from `(xs[i], ys[i])` to
    /// `(xs[i] + us[i], ys[i] + vs[i])` in data units, its head a quarter of its length.
    /// - Parameter colors: one colour per arrow (e.g. by the field's magnitude); nil: `color`.
    @discardableResult
    public func arrows<T: BinaryFloatingPoint>(_ xs: [T], _ ys: [T], _ us: [T], _ vs: [T], colors: [Color]? = nil,
                                               color: Color = .ink, width: Double = 1.25) -> Axes {
        precondition(xs.count == ys.count && xs.count == us.count && xs.count == vs.count,
                     "arrows: \(xs.count) x, \(ys.count) y, \(us.count) u and \(vs.count) v values")
        if let colors { precondition(colors.count == xs.count, "arrows: \(colors.count) colours for \(xs.count) arrows") }
        items.append(.arrows(xs: xs.map(Double.init), ys: ys.map(Double.init), us: us.map(Double.init),
                             vs: vs.map(Double.init), colors: colors ?? Array(repeating: color, count: xs.count), width: width))
        return self
    }

    /// An RGB picture (a sample grid, a photo) filling the panel, without axes.
    /// Shown at the largest whole-number zoom that fits (sharp pixels), centred.
    @discardableResult
    public func image(_ picture: Canvas) -> Axes {
        items.append(.image(picture))
        showAxes = false
        grid = false
        return self
    }
}
