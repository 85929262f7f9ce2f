/// Maps a number in [0, 1] to a colour, for heat maps and colour bars.
///
/// `viridis` (van der Walt & Smith, 2015; matplotlib's default, released as CC0) is
/// perceptually uniform and readable in greyscale and by colour-blind readers. It is
/// stored here as 33 of its 256 entries (every 8th, plus the last) and interpolated
/// linearly in between; the result differs from the full table by less than one 8-bit level.
public struct Colormap {
    /// Control colours, evenly spaced unless `positions` says otherwise.
    let stops: [(position: Double, r: Double, g: Double, b: Double)]
    public let name: String

    /// A colormap that interpolates linearly between colours placed evenly on [0, 1].
    public init(name: String, colors: [Color]) {
        precondition(colors.count >= 2, "Colormap: needs at least two colours")
        self.name = name
        stops = colors.enumerated().map {
            (Double($0.offset) / Double(colors.count - 1),
             Double($0.element.r) / 255, Double($0.element.g) / 255, Double($0.element.b) / 255)
        }
    }

    init(name: String, stops: [(position: Double, r: Double, g: Double, b: Double)]) {
        self.name = name
        self.stops = stops
    }

    /// The colour for `t` (clamped to [0, 1]; NaN gives the lowest colour).
    public func callAsFunction(_ t: Double) -> Color {
        let u = t.isNaN ? 0 : min(max(t, 0), 1)
        var hi = 1
        while hi < stops.count - 1 && stops[hi].position < u { hi += 1 }
        let a = stops[hi - 1], b = stops[hi]
        let f = (u - a.position) / (b.position - a.position)
        return Color(red: a.r + (b.r - a.r) * f, green: a.g + (b.g - a.g) * f, blue: a.b + (b.b - a.b) * f)
    }

    /// Black to white.
    public static let gray = Colormap(name: "gray", colors: [.black, .white])

    /// Blue - white - red, for signed values centred on zero (e.g. weights, differences).
    public static let coolwarm = Colormap(name: "coolwarm",
                                          colors: [Color(hex: 0x3b4cc0), Color(hex: 0xdddddd), Color(hex: 0xb40426)])

    /// matplotlib's viridis (dark purple - blue - green - yellow).
    public static let viridis: Colormap = {
        let table: [(Double, Double, Double)] = [
            (0.267004, 0.004874, 0.329415), (0.277018, 0.050344, 0.375715), (0.282327, 0.094955, 0.417331),
            (0.282884, 0.135920, 0.453427), (0.278826, 0.175490, 0.483397), (0.270595, 0.214069, 0.507052),
            (0.258965, 0.251537, 0.524736), (0.244972, 0.287675, 0.537260), (0.229739, 0.322361, 0.545706),
            (0.214298, 0.355619, 0.551184), (0.199430, 0.387607, 0.554642), (0.185556, 0.418570, 0.556753),
            (0.172719, 0.448791, 0.557885), (0.160665, 0.478540, 0.558115), (0.149039, 0.508051, 0.557250),
            (0.137770, 0.537492, 0.554906), (0.127568, 0.566949, 0.550556), (0.120565, 0.596422, 0.543611),
            (0.120638, 0.625828, 0.533488), (0.132268, 0.655014, 0.519661), (0.157851, 0.683765, 0.501686),
            (0.196571, 0.711827, 0.479221), (0.246070, 0.738910, 0.452024), (0.304148, 0.764704, 0.419943),
            (0.369214, 0.788888, 0.382914), (0.440137, 0.811138, 0.340967), (0.515992, 0.831158, 0.294279),
            (0.595839, 0.848717, 0.243329), (0.678489, 0.863742, 0.189503), (0.762373, 0.876424, 0.137064),
            (0.845561, 0.887322, 0.099702), (0.926106, 0.897330, 0.104071), (0.993248, 0.906157, 0.143936),
        ]
        // Entries 0, 8, ..., 248 of the 256-entry table, then entry 255.
        let positions = (0..<32).map { Double($0 * 8) / 255 } + [1]
        return Colormap(name: "viridis", stops: zip(positions, table).map { ($0, $1.0, $1.1, $1.2) })
    }()
}
