import CGIF
import Foundation

/// A decoded GIF: its frames as RGB canvases, per-frame delays and loop setting.
/// Read with giflib's `DGifSlurp`; the tests use it to check what `GIFWriter` wrote.
///
///     let gif = try GIFAnimation.read(from: URL(fileURLWithPath: "out/forward.gif"))
///     print(gif.frames.count, gif.delays, gif.loopCount as Any)
public struct GIFAnimation {
    public let width: Int
    public let height: Int
    /// Every frame composed onto the full logical screen, as the viewer shows it.
    public let frames: [Canvas]
    /// Palette index of every pixel of every frame (before colour lookup).
    public let indices: [[UInt8]]
    /// Delay of each frame in centiseconds (0 when a frame has no graphics control block).
    public let delays: [Int]
    /// The NETSCAPE2.0 loop count: nil = play once, 0 = forever, n = n repeats.
    public let loopCount: Int?

    /// Whether the animation repeats forever.
    public var loopsForever: Bool { loopCount == 0 }

    /// Decodes the GIF file at `url`.
    public static func read(from url: URL) throws -> GIFAnimation {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FigureError("No GIF file at \(url.path); check the path.")
        }
        var error: Int32 = 0
        guard let gif = DGifOpenFileName(url.path, &error) else {
            throw FigureError("\(url.path) is not a readable GIF (giflib: \(GIFWriter.describe(error))); check that it is a GIF file.")
        }
        defer { DGifCloseFile(gif, &error) }
        guard DGifSlurp(gif) == GIF_OK else {
            throw FigureError("\(url.path) is a damaged GIF (giflib: \(GIFWriter.describe(gif.pointee.Error))); re-create it.")
        }
        let g = gif.pointee
        let width = Int(g.SWidth), height = Int(g.SHeight)
        guard width > 0, height > 0 else { throw FigureError("\(url.path) has an empty GIF screen; re-create it.") }

        var screen = Canvas(width: width, height: height, background: .black)
        var frames: [Canvas] = [], indices: [[UInt8]] = [], delays: [Int] = []
        var loopCount: Int?
        for i in 0..<Int(g.ImageCount) {
            let saved = g.SavedImages[i]
            let desc = saved.ImageDesc
            var control = GraphicsControlBlock()
            var transparent = -1
            if DGifSavedExtensionToGCB(gif, Int32(i), &control) == GIF_OK {
                delays.append(Int(control.DelayTime))
                transparent = Int(control.TransparentColor)
            } else {
                delays.append(0)
            }
            loopCount = loopCount ?? netscapeLoop(saved.ExtensionBlocks, Int(saved.ExtensionBlockCount))
            guard let map = desc.ColorMap ?? g.SColorMap, let raster = saved.RasterBits else {
                throw FigureError("\(url.path): frame \(i) has no colour table; re-create the GIF.")
            }
            let (left, top) = (Int(desc.Left), Int(desc.Top))
            let (w, h) = (Int(desc.Width), Int(desc.Height))
            var full = [UInt8](repeating: 0, count: width * height)
            for y in 0..<h {
                for x in 0..<w {
                    let (sx, sy) = (left + x, top + y)
                    guard sx < width, sy < height else { continue }
                    let k = Int(raster[y * w + x])
                    full[sy * width + sx] = UInt8(k)
                    if k == transparent || k >= Int(map.pointee.ColorCount) { continue }
                    let c = map.pointee.Colors[k]
                    screen[sx, sy] = Color(r: c.Red, g: c.Green, b: c.Blue)
                }
            }
            frames.append(screen)
            indices.append(full)
        }
        loopCount = loopCount ?? netscapeLoop(g.ExtensionBlocks, Int(g.ExtensionBlockCount))
        return GIFAnimation(width: width, height: height, frames: frames, indices: indices,
                            delays: delays, loopCount: loopCount)
    }

    /// Finds a NETSCAPE2.0 application block and returns its loop count.
    private static func netscapeLoop(_ blocks: UnsafeMutablePointer<ExtensionBlock>?, _ count: Int) -> Int? {
        guard let blocks, count > 0 else { return nil }
        for i in 0..<count where blocks[i].Function == APPLICATION_EXT_FUNC_CODE {
            let b = blocks[i]
            guard b.ByteCount == 11, let bytes = b.Bytes,
                  String(decoding: UnsafeBufferPointer(start: bytes, count: 11), as: UTF8.self) == "NETSCAPE2.0",
                  i + 1 < count else { continue }
            let sub = blocks[i + 1]
            guard sub.ByteCount >= 3, let data = sub.Bytes, data[0] == 1 else { continue }
            return Int(data[1]) | Int(data[2]) << 8
        }
        return nil
    }
}
