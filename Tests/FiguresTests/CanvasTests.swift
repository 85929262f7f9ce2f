import Testing
@testable import Figures

@Suite struct CanvasTests {
    @Test func textIsMeasuredAndDrawnInsideItsBox() {
        #expect(BitmapFont.width(of: "0.25") == 24)
        #expect(Canvas.textSize("abc", scale: 2, rotated: true) == (26, 36))
        var c = Canvas(width: 60, height: 30)
        let box = c.text("Hg", x: 30, y: 15, color: .black, anchor: .center)
        #expect(box == PixelRect(x: 24, y: 9, width: 12, height: 13))
        var inside = 0, outside = 0
        for y in 0..<30 {
            for x in 0..<60 where c[x, y] != .white {
                if box.contains(x: x, y: y) { inside += 1 } else { outside += 1 }
            }
        }
        #expect(inside > 20 && outside == 0)
        // Rotated text occupies a tall box.
        var r = Canvas(width: 30, height: 60)
        let tall = r.text("Hg", x: 0, y: 0, rotated: true)
        #expect(tall.width == 13 && tall.height == 12)
        #expect(r[2 + 0, 11] != .white)           // the H's left stem runs along the bottom row
    }

    /// The symbols drawn for the course: each a full 13-row cell, not the "missing" box, and
    /// told apart from every other glyph (µ and μ, - and − are the same drawing on purpose).
    @Test func mathematicalGlyphsAreDrawnAndDistinct() {
        let text = "αᾱββ̃εηθλμπσΣ√‖−×≈∇→x̂₀₁₂ₜₙ₋ᵀ"
        #expect(BitmapFont.width(of: "√ᾱₜ") == 18)          // one cell per Character, combining marks included
        var seen: [[UInt8]: Character] = [:]
        for ch in text {
            let rows = Array(BitmapFont.rows(for: ch))
            #expect(rows.count == BitmapFont.glyphHeight)
            #expect(rows != BitmapFont.missing, "no glyph for \(ch)")
            #expect(rows.contains { $0 != 0 }, "blank glyph for \(ch)")
            #expect(rows.allSatisfy { $0 & 0x03 == 0 }, "\(ch) spills out of the 6-pixel cell")
            if let other = seen[rows] { Issue.record("\(ch) is drawn like \(other)") }
            seen[rows] = ch
        }
        // "‖" is one glyph with two strokes, not "||" (two cells that read as "ll").
        #expect(Array(BitmapFont.rows(for: "‖")) != Array(BitmapFont.rows(for: "|")))
        #expect(BitmapFont.rows(for: "μ") == BitmapFont.rows(for: "µ"))
    }

    @Test func antiAliasedLineCoverage() {
        var c = Canvas(width: 20, height: 10)
        c.line(from: Point(2, 5), to: Point(18, 5), color: .black, width: 2)
        // A 2-pixel line centred on y = 5 covers rows 4 and 5 fully, nothing else.
        #expect(c[10, 4] == .black && c[10, 5] == .black)
        #expect(c[10, 3] == .white && c[10, 6] == .white)
        // Half-pixel offset: the edge rows are half covered (grey).
        var d = Canvas(width: 20, height: 10)
        d.line(from: Point(2, 5.5), to: Point(18, 5.5), color: .black, width: 2)
        #expect(d[10, 5] == .black)
        #expect(d[10, 4].r > 100 && d[10, 4].r < 160)
    }

    @Test func translucentPolylineJointsAreNotDoubled() {
        var c = Canvas(width: 30, height: 30)
        c.polyline([Point(5, 5), Point(15, 15), Point(25, 5)], color: .black, width: 3, alpha: 0.5)
        #expect(c[15, 14] == Color(r: 128, g: 128, b: 128))
    }

    @Test func dashesLeaveGaps() {
        let pieces = Canvas.dashed([Point(0, 0), Point(20, 0)], pattern: [6, 4])
        #expect(pieces.count == 2)
        #expect(pieces[0] == [Point(0, 0), Point(6, 0)])
        #expect(pieces[1] == [Point(10, 0), Point(16, 0)])
    }

    @Test func clipKeepsDrawingInside() {
        var c = Canvas(width: 10, height: 10)
        c.clip = PixelRect(x: 2, y: 2, width: 4, height: 4)
        c.fillCircle(center: Point(5, 5), radius: 6, color: .black)
        #expect(c[3, 3] == .black && c[1, 1] == .white && c[7, 7] == .white)
    }

    @Test func viridisEndsAndMiddle() {
        #expect(Colormap.viridis(0) == Color(red: 0.267004, green: 0.004874, blue: 0.329415))
        #expect(Colormap.viridis(1) == Color(red: 0.993248, green: 0.906157, blue: 0.143936))
        #expect(Colormap.viridis(128.0 / 255) == Color(red: 0.127568, green: 0.566949, blue: 0.550556))
    }
}
