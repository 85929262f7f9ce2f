import Foundation
import Testing
@testable import Figures

@Suite struct GIFTests {
    @Test func grayFramesRoundTripExactlyWithDelaysAndLoop() throws {
        // 256 grey levels in every frame, shifted per frame.
        let frames = (0..<5).map { k in
            GrayImage(width: 32, height: 8, pixels: (0..<256).map { UInt8(($0 + 37 * k) % 256) })
        }
        let url = scratchFolder().appendingPathComponent("gray.gif")
        try GIFWriter.write(grayFrames: frames, delayCentiseconds: 7, loop: true, to: url)
        let gif = try GIFAnimation.read(from: url)
        #expect(gif.width == 32 && gif.height == 8)
        #expect(gif.frames.count == 5)
        #expect(gif.delays == [7, 7, 7, 7, 7])
        #expect(gif.loopsForever)
        for (decoded, original) in zip(gif.frames, frames) {
            #expect(decoded.grayImage == original)
            #expect(decoded == original.canvas)
        }
    }

    @Test func playOnceAndPerFrameDelays() throws {
        let frames = [Canvas(width: 4, height: 3, background: .tab(0)), Canvas(width: 4, height: 3, background: .tab(1))]
        let url = scratchFolder().appendingPathComponent("once.gif")
        try GIFWriter.write(frames: frames, delays: [10, 250], loop: false, to: url)
        let gif = try GIFAnimation.read(from: url)
        #expect(gif.loopCount == nil)
        #expect(gif.delays == [10, 250])
        #expect(gif.frames == frames)
    }

    @Test func fewColoursUseAnExactPalette() throws {
        // A plot-like frame: white background, a few colours, drawn with alpha (so blends).
        var a = Canvas(width: 60, height: 40)
        a.fill(PixelRect(x: 5, y: 5, width: 20, height: 10), color: .tab(3))
        a.text("ok", x: 30, y: 10)
        var b = a
        b.fill(PixelRect(x: 10, y: 20, width: 30, height: 10), color: .tab(2))
        #expect(Palette.exact(for: [a, b]) != nil)
        let url = scratchFolder().appendingPathComponent("exact.gif")
        try GIFWriter.write(frames: [a, b], delayCentiseconds: 5, to: url)
        let gif = try GIFAnimation.read(from: url)
        #expect(gif.frames == [a, b])
    }

    @Test func manyColoursAreQuantisedCloseToTheOriginal() throws {
        // Smooth gradients: 64 x 64 x 3 frames with thousands of distinct colours.
        let frames = (0..<3).map { k -> Canvas in
            var c = Canvas(width: 64, height: 64)
            for y in 0..<64 {
                for x in 0..<64 {
                    c[x, y] = Color(r: UInt8(x * 4), g: UInt8(y * 4), b: UInt8((x + y + 40 * k) % 256))
                }
            }
            return c
        }
        #expect(Palette.exact(for: frames) == nil)
        let url = scratchFolder().appendingPathComponent("gradient.gif")
        try GIFWriter.write(frames: frames, delayCentiseconds: 4, to: url)
        let gif = try GIFAnimation.read(from: url)
        #expect(gif.frames.count == 3)
        var total = 0.0, worst = 0
        for (decoded, original) in zip(gif.frames, frames) {
            for (u, v) in zip(decoded.pixels, original.pixels) {
                let d = abs(Int(u) - Int(v))
                total += Double(d)
                worst = max(worst, d)
            }
        }
        let mean = total / Double(3 * 64 * 64 * 3)
        #expect(mean < 8, "mean absolute error \(mean) per channel")
        #expect(worst < 64, "worst error \(worst)")
    }

    @Test func badInputsThrow() throws {
        let url = scratchFolder().appendingPathComponent("bad.gif")
        #expect(throws: FigureError.self) { try GIFWriter.write(frames: [], to: url) }
        let mixed = [Canvas(width: 4, height: 4), Canvas(width: 5, height: 4)]
        let e = #expect(throws: FigureError.self) { try GIFWriter.write(frames: mixed, to: url) }
        #expect(e?.description.contains("same size") == true)
        #expect(!FileManager.default.fileExists(atPath: url.path))
        let text = url.deletingLastPathComponent().appendingPathComponent("text.gif")
        try Data("GIF? no".utf8).write(to: text)
        #expect(throws: FigureError.self) { try GIFAnimation.read(from: text) }
        #expect(throws: FigureError.self) { try GIFAnimation.read(from: url) }
    }
}
