/// An 8-bit RGB raster to draw on: the picture every figure, grid and GIF frame is made of.
///
/// Pixels are stored row by row, top row first, three bytes (R, G, B) per pixel:
/// pixel `(x, y)` starts at byte `3 * (y * width + x)`. Drawing coordinates are
/// continuous: pixel `(x, y)` covers the square `[x, x+1) x [y, y+1)`, so its centre is
/// `(x + 0.5, y + 0.5)`; y grows downwards.
///
/// Shapes (Canvas+Shapes.swift) are anti-aliased: each pixel is blended with the
/// fraction of it the shape covers. Text (Canvas+Text.swift) is a crisp bitmap font.
///
///     var canvas = Canvas(width: 200, height: 100)
///     canvas.line(from: Point(10, 90), to: Point(190, 10), color: .tab(0), width: 2)
///     canvas.fillCircle(center: Point(100, 50), radius: 6, color: .tab(1), alpha: 0.7)
///     canvas.text("hello", x: 10, y: 10)
///     try canvas.writePNG(to: URL(fileURLWithPath: "/tmp/hello.png"))
public struct Canvas: Equatable {
    public let width: Int
    public let height: Int
    /// RGB bytes, row-major, `3 * width * height` of them.
    public var pixels: [UInt8]
    /// When set, drawing only touches pixels inside this rectangle (plots clip their data
    /// to the axes area this way).
    public var clip: PixelRect?

    /// A canvas filled with one colour.
    public init(width: Int, height: Int, background: Color = .white) {
        precondition(width > 0 && height > 0, "Canvas: size \(width) x \(height) must be positive")
        self.width = width
        self.height = height
        var row = [UInt8]()
        row.reserveCapacity(3 * width)
        for _ in 0..<width { row += [background.r, background.g, background.b] }
        pixels = Array([[UInt8]](repeating: row, count: height).joined())
    }

    /// A canvas around existing RGB bytes (`3 * width * height` of them, row-major).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "Canvas: size \(width) x \(height) must be positive")
        precondition(pixels.count == 3 * width * height,
                     "Canvas: \(pixels.count) bytes given, \(3 * width * height) needed for \(width) x \(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour of pixel `(x, y)`.
    public subscript(x: Int, y: Int) -> Color {
        get {
            let i = 3 * (y * width + x)
            return Color(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
        }
        set {
            let i = 3 * (y * width + x)
            pixels[i] = newValue.r
            pixels[i + 1] = newValue.g
            pixels[i + 2] = newValue.b
        }
    }

    /// The drawable area: the clip rectangle within the canvas, or the whole canvas.
    var drawable: PixelRect {
        let all = PixelRect(x: 0, y: 0, width: width, height: height)
        return clip.map { $0.intersection(all) } ?? all
    }

    /// Blends `color` over pixel `(x, y)` with opacity `alpha` in [0, 1]:
    /// `out = alpha * color + (1 - alpha) * old`. Pixels outside the drawable area are skipped.
    @inline(__always)
    public mutating func blend(x: Int, y: Int, color: Color, alpha: Float) {
        let area = drawable
        guard alpha > 0, area.contains(x: x, y: y) else { return }
        let i = 3 * (y * width + x)
        if alpha >= 1 {
            pixels[i] = color.r
            pixels[i + 1] = color.g
            pixels[i + 2] = color.b
            return
        }
        let keep = 1 - alpha
        pixels[i] = UInt8(Float(color.r) * alpha + Float(pixels[i]) * keep + 0.5)
        pixels[i + 1] = UInt8(Float(color.g) * alpha + Float(pixels[i + 1]) * keep + 0.5)
        pixels[i + 2] = UInt8(Float(color.b) * alpha + Float(pixels[i + 2]) * keep + 0.5)
    }

    /// Fills the pixel rectangle `rect` (integer pixels, no anti-aliasing).
    public mutating func fill(_ rect: PixelRect, color: Color, alpha: Float = 1) {
        let r = rect.intersection(drawable)
        guard r.width > 0, r.height > 0 else { return }
        for y in r.y..<r.y + r.height {
            for x in r.x..<r.x + r.width { blend(x: x, y: y, color: color, alpha: alpha) }
        }
    }

    /// Draws the outline of `rect`, `lineWidth` pixels thick, inside the rectangle.
    public mutating func stroke(_ rect: PixelRect, color: Color, lineWidth: Int = 1) {
        let w = min(lineWidth, rect.width, rect.height)
        fill(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: w), color: color)
        fill(PixelRect(x: rect.x, y: rect.maxY - w, width: rect.width, height: w), color: color)
        fill(PixelRect(x: rect.x, y: rect.y, width: w, height: rect.height), color: color)
        fill(PixelRect(x: rect.maxX - w, y: rect.y, width: w, height: rect.height), color: color)
    }

    /// Copies `image` with its top-left corner at `(x, y)` (parts outside are dropped).
    public mutating func draw(_ image: Canvas, x: Int, y: Int) {
        let target = PixelRect(x: x, y: y, width: image.width, height: image.height).intersection(drawable)
        guard target.width > 0, target.height > 0 else { return }
        for row in target.y..<target.maxY {
            let src = 3 * ((row - y) * image.width + (target.x - x))
            let dst = 3 * (row * width + target.x)
            pixels.replaceSubrange(dst..<dst + 3 * target.width,
                                   with: image.pixels[src..<src + 3 * target.width])
        }
    }

    /// This image enlarged `factor` times by repeating pixels (nearest neighbour): sharp
    /// blocks, no blur, the way small images such as 28 x 28 digits should be shown.
    public func upscaled(by factor: Int) -> Canvas {
        precondition(factor >= 1, "upscaled(by:): factor \(factor) must be at least 1")
        if factor == 1 { return self }
        var out = [UInt8](repeating: 0, count: pixels.count * factor * factor)
        let outWidth = width * factor
        for y in 0..<height * factor {
            for x in 0..<outWidth {
                let s = 3 * ((y / factor) * width + x / factor)
                let d = 3 * (y * outWidth + x)
                out[d] = pixels[s]
                out[d + 1] = pixels[s + 1]
                out[d + 2] = pixels[s + 2]
            }
        }
        return Canvas(width: outWidth, height: height * factor, pixels: out)
    }
}

/// A point in continuous canvas coordinates (pixels, y down).
public struct Point: Equatable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned rectangle of whole pixels: columns `x..<x+width`, rows `y..<y+height`.
public struct PixelRect: Equatable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    @inline(__always)
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < x + width && py >= y && py < y + height }

    /// The overlap of two rectangles (zero-sized when they do not meet).
    public func intersection(_ o: PixelRect) -> PixelRect {
        let x0 = max(x, o.x), y0 = max(y, o.y)
        let x1 = min(maxX, o.maxX), y1 = min(maxY, o.maxY)
        return PixelRect(x: x0, y: y0, width: max(0, x1 - x0), height: max(0, y1 - y0))
    }

    /// Whether the two rectangles share at least one pixel.
    public func intersects(_ o: PixelRect) -> Bool {
        let r = intersection(o)
        return r.width > 0 && r.height > 0
    }
}
