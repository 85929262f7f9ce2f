/// The colour table of a GIF (at most 256 colours) and the map from pixels to its indices.
///
/// A GIF stores every pixel as an index into one palette. Plots rarely use more than 256
/// colours, so the palette is usually *exact*: every colour present gets its own entry and
/// the GIF shows the frames without any change. With more colours (photos, heat maps with
/// smooth gradients, translucent dots) the palette is built by **median cut**
/// (Heckbert 1982): start with one box holding every colour of every frame, repeatedly split
/// the box with the largest spread at the weighted median of its widest channel, stop at
/// 256 boxes, and use each box's mean colour. Each pixel then takes its nearest palette
/// colour (squared RGB distance). One palette serves all frames, so colours do not flicker.
struct Palette {
    /// The palette colours (1 to 256 of them).
    let colors: [Color]
    /// Returns the palette index of a pixel.
    let index: (UInt8, UInt8, UInt8) -> UInt8

    /// The exact palette when the frames use at most 256 colours, otherwise median cut.
    static func build(for frames: [Canvas]) -> Palette {
        exact(for: frames) ?? medianCut(for: frames)
    }

    /// Every distinct colour of the frames, or nil if there are more than 256.
    static func exact(for frames: [Canvas]) -> Palette? {
        var table: [UInt32: UInt8] = [:]
        var colors: [Color] = []
        for frame in frames {
            let p = frame.pixels
            for i in stride(from: 0, to: p.count, by: 3) {
                let key = UInt32(p[i]) << 16 | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2])
                if table[key] == nil {
                    if colors.count == 256 { return nil }
                    table[key] = UInt8(colors.count)
                    colors.append(Color(r: p[i], g: p[i + 1], b: p[i + 2]))
                }
            }
        }
        return Palette(colors: colors) { r, g, b in table[UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)]! }
    }

    /// Median-cut palette over a 6-bits-per-channel histogram of all frames.
    static func medianCut(for frames: [Canvas], maxColors: Int = 256) -> Palette {
        // Histogram bins: 64 levels per channel; each bin keeps a count and colour sums,
        // so a bin's mean colour is exact even though the bin is coarse.
        let binCount = 1 << 18
        var count = [Int](repeating: 0, count: binCount)
        var sums = [Int](repeating: 0, count: 3 * binCount)
        for frame in frames {
            let p = frame.pixels
            for i in stride(from: 0, to: p.count, by: 3) {
                let bin = Palette.bin(p[i], p[i + 1], p[i + 2])
                count[bin] += 1
                sums[3 * bin] += Int(p[i])
                sums[3 * bin + 1] += Int(p[i + 1])
                sums[3 * bin + 2] += Int(p[i + 2])
            }
        }
        struct Entry { var rgb: (Double, Double, Double); var weight: Int }
        func channel(_ e: Entry, _ c: Int) -> Double { c == 0 ? e.rgb.0 : (c == 1 ? e.rgb.1 : e.rgb.2) }
        let entries = (0..<binCount).compactMap { bin -> Entry? in
            let n = count[bin]
            guard n > 0 else { return nil }
            let d = Double(n)
            return Entry(rgb: (Double(sums[3 * bin]) / d, Double(sums[3 * bin + 1]) / d, Double(sums[3 * bin + 2]) / d),
                         weight: n)
        }

        /// The widest channel of a box and a score: weight x (range of that channel)^2.
        func widest(_ box: [Entry]) -> (channel: Int, score: Double) {
            var best = (channel: 0, score: -1.0)
            let weight = Double(box.reduce(0) { $0 + $1.weight })
            for c in 0..<3 {
                let values = box.map { channel($0, c) }
                let range = values.max()! - values.min()!
                let score = box.count > 1 ? weight * range * range : -1
                if score > best.score { best = (c, score) }
            }
            return best
        }

        var boxes: [[Entry]] = [entries]
        while boxes.count < maxColors {
            let scored = boxes.map { widest($0) }
            guard let pick = scored.indices.max(by: { scored[$0].score < scored[$1].score }),
                  scored[pick].score > 0 else { break }
            let c = scored[pick].channel
            // Stable sort (ties keep their histogram order) so the result is deterministic.
            let sorted = boxes[pick].enumerated().sorted {
                let (a, b) = (channel($0.element, c), channel($1.element, c))
                return a != b ? a < b : $0.offset < $1.offset
            }.map(\.element)
            let half = sorted.reduce(0) { $0 + $1.weight } / 2
            var running = 0, cut = 1
            for (i, e) in sorted.enumerated() {
                running += e.weight
                if running >= half { cut = min(max(i + 1, 1), sorted.count - 1); break }
            }
            boxes[pick] = Array(sorted[..<cut])
            boxes.append(Array(sorted[cut...]))
        }
        let colors = boxes.map { box -> Color in
            let w = Double(box.reduce(0) { $0 + $1.weight })
            let r = box.reduce(0.0) { $0 + $1.rgb.0 * Double($1.weight) } / w
            let g = box.reduce(0.0) { $0 + $1.rgb.1 * Double($1.weight) } / w
            let b = box.reduce(0.0) { $0 + $1.rgb.2 * Double($1.weight) } / w
            return Color(r: UInt8(r.rounded()), g: UInt8(g.rounded()), b: UInt8(b.rounded()))
        }

        // Nearest palette colour for every histogram bin present, computed once.
        var nearest = [UInt8](repeating: 0, count: binCount)
        for bin in 0..<binCount where count[bin] > 0 {
            let d = Double(count[bin])
            let (r, g, b) = (Double(sums[3 * bin]) / d, Double(sums[3 * bin + 1]) / d, Double(sums[3 * bin + 2]) / d)
            var best = 0, bestDistance = Double.infinity
            for (k, p) in colors.enumerated() {
                let dr = r - Double(p.r), dg = g - Double(p.g), db = b - Double(p.b)
                let distance = dr * dr + dg * dg + db * db
                if distance < bestDistance { (best, bestDistance) = (k, distance) }
            }
            nearest[bin] = UInt8(best)
        }
        return Palette(colors: colors) { r, g, b in nearest[Palette.bin(r, g, b)] }
    }

    @inline(__always)
    static func bin(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
        Int(r >> 2) << 12 | Int(g >> 2) << 6 | Int(b >> 2)
    }
}
