/// An opaque 8-bit sRGB colour.
///
///     let c = Color(r: 31, g: 119, b: 180)   // matplotlib's "tab:blue"
///     let d = Color.tab(1)                   // the second colour of the default cycle
///     let e = Color(hex: 0xd62728)           // "tab:red"
public struct Color: Hashable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// A colour from a 24-bit hex number, `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(r: UInt8((hex >> 16) & 0xFF), g: UInt8((hex >> 8) & 0xFF), b: UInt8(hex & 0xFF))
    }

    /// A colour from components in [0, 1] (clamped, rounded to the nearest 8-bit level).
    public init(red: Double, green: Double, blue: Double) {
        func q(_ v: Double) -> UInt8 { UInt8((min(max(v, 0), 1) * 255).rounded()) }
        self.init(r: q(red), g: q(green), b: q(blue))
    }

    /// A grey level in [0, 1]: 0 is black, 1 is white.
    public static func gray(_ level: Double) -> Color { Color(red: level, green: level, blue: level) }

    public static let white = Color(r: 255, g: 255, b: 255)
    public static let black = Color(r: 0, g: 0, b: 0)
    /// The dark grey used for axes, ticks and text (softer than pure black).
    public static let ink = Color(r: 38, g: 38, b: 38)
    /// The light grey of grid lines.
    public static let grid = Color(r: 232, g: 232, b: 232)

    /// The ten colours of the default cycle, matplotlib's "tab10" (Tableau 10).
    public static let tab10: [Color] = [
        Color(hex: 0x1f77b4), Color(hex: 0xff7f0e), Color(hex: 0x2ca02c), Color(hex: 0xd62728),
        Color(hex: 0x9467bd), Color(hex: 0x8c564b), Color(hex: 0xe377c2), Color(hex: 0x7f7f7f),
        Color(hex: 0xbcbd22), Color(hex: 0x17becf),
    ]

    /// The `index`-th colour of the default cycle (wraps around after ten).
    public static func tab(_ index: Int) -> Color { tab10[((index % 10) + 10) % 10] }

    /// The colour of cluster (or class) `index` in the 2-D chapters: the tab10 cycle without its
    /// grey, which those figures keep for the training data (8 distinct colours, then repeats).
    public static func cluster(_ index: Int) -> Color { tab([0, 1, 2, 3, 4, 5, 6, 9, 8][((index % 9) + 9) % 9]) }

    /// This colour mixed with `other`: `t = 0` gives self, `t = 1` gives other.
    public func mixed(with other: Color, _ t: Double) -> Color {
        func m(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * min(max(t, 0), 1)).rounded())
        }
        return Color(r: m(r, other.r), g: m(g, other.g), b: m(b, other.b))
    }
}
