/// Where a text's anchor point sits on the text's box.
public struct TextAnchor: Equatable {
    public enum Horizontal { case left, center, right }
    public enum Vertical { case top, middle, bottom }
    public var horizontal: Horizontal
    public var vertical: Vertical
    public init(_ horizontal: Horizontal, _ vertical: Vertical) {
        self.horizontal = horizontal
        self.vertical = vertical
    }
    public static let topLeft = TextAnchor(.left, .top)
    public static let center = TextAnchor(.center, .middle)
}

/// Text in the built-in bitmap font (`BitmapFont`, X11 misc-fixed 6x13).
///
/// Glyph pixels are drawn as solid `scale x scale` squares, so text is sharp at every
/// integer scale. Rotated text reads from bottom to top (the usual y-axis label).
extension Canvas {
    /// The size in pixels of the box `text` occupies (rotated text swaps width and height).
    public static func textSize(_ text: String, scale: Int = 1, bold: Bool = false,
                                rotated: Bool = false) -> (width: Int, height: Int) {
        let w = BitmapFont.width(of: text, scale: scale, bold: bold)
        let h = BitmapFont.height(scale: scale)
        return rotated ? (h, w) : (w, h)
    }

    /// Draws `text` so that the point `(x, y)` sits at `anchor` of its box.
    ///
    /// - Parameters:
    ///   - scale: integer magnification of the 6x13 font (2 gives 12x26 glyphs).
    ///   - bold: draws every glyph twice, one step apart (the X11 way to embolden).
    ///   - rotated: turns the text 90 degrees counter-clockwise (reads bottom to top).
    /// - Returns: the box the text occupies.
    @discardableResult
    public mutating func text(_ text: String, x: Int, y: Int, color: Color = .ink, scale: Int = 1,
                              bold: Bool = false, rotated: Bool = false,
                              anchor: TextAnchor = .topLeft) -> PixelRect {
        let size = Canvas.textSize(text, scale: scale, bold: bold, rotated: rotated)
        var left = x, top = y
        switch anchor.horizontal {
        case .left: break
        case .center: left -= size.width / 2
        case .right: left -= size.width
        }
        switch anchor.vertical {
        case .top: break
        case .middle: top -= size.height / 2
        case .bottom: top -= size.height
        }
        let s = max(1, scale)
        let textLength = BitmapFont.width(of: text, scale: s, bold: bold)
        for (i, character) in text.enumerated() {
            let rows = BitmapFont.rows(for: character)
            for (row, bits) in rows.enumerated() where bits != 0 {
                for col in 0..<BitmapFont.glyphWidth where bits & (0x80 >> UInt8(col)) != 0 {
                    // Position along the text (u) and across it (v), in font pixels * scale.
                    let u = (i * BitmapFont.glyphWidth + col) * s
                    let v = row * s
                    for copy in 0...(bold ? 1 : 0) {
                        let uu = u + copy * s
                        if rotated {
                            // Rotate counter-clockwise: along the text goes up the canvas.
                            fillSquare(x: left + v, y: top + textLength - uu - s, size: s, color: color)
                        } else {
                            fillSquare(x: left + uu, y: top + v, size: s, color: color)
                        }
                    }
                }
            }
        }
        return PixelRect(x: left, y: top, width: size.width, height: size.height)
    }

    private mutating func fillSquare(x: Int, y: Int, size: Int, color: Color) {
        for yy in y..<y + size {
            for xx in x..<x + size { blend(x: xx, y: yy, color: color, alpha: 1) }
        }
    }
}
