import AtomicFiles
import CGIF
import Foundation
import TinyTensor

/// Animated GIFs through giflib (`EGif*` calls; giflib reports errors by return value,
/// so there is no `longjmp` to worry about).
///
/// A GIF written here is a GIF89a file with:
/// - one global palette shared by all frames (see `Palette`: exact when the animation
///   uses at most 256 colours, median cut otherwise; greyscale frames use the 256 grey
///   levels, so they round-trip exactly);
/// - a NETSCAPE2.0 application extension when `loop` is true (repeat forever);
/// - a graphics control extension before every frame carrying its delay in
///   centiseconds (1/100 s; browsers treat delays under 2 as 10, so use 2 or more).
///
///     try GIFWriter.write(frames: canvases, delayCentiseconds: 8, loop: true,
///                         to: URL(fileURLWithPath: "out/forward.gif"))
public enum GIFWriter {
    /// Writes RGB frames (all of the same size) with one delay for every frame.
    public static func write(frames: [Canvas], delayCentiseconds: Int = 10, loop: Bool = true, to url: URL) throws {
        try write(frames: frames, delays: Array(repeating: delayCentiseconds, count: frames.count), loop: loop, to: url)
    }

    /// Writes RGB frames with a delay per frame (e.g. hold the last frame longer).
    public static func write(frames: [Canvas], delays: [Int], loop: Bool = true, to url: URL) throws {
        try checkSizes(frames.map { ($0.width, $0.height) }, delays: delays, url: url)
        let palette = Palette.build(for: frames)
        let indexed = frames.map { frame -> [UInt8] in
            let p = frame.pixels
            return (0..<frame.width * frame.height).map { palette.index(p[3 * $0], p[3 * $0 + 1], p[3 * $0 + 2]) }
        }
        try encode(indexed, width: frames[0].width, height: frames[0].height,
                   colors: palette.colors, delays: delays, loop: loop, to: url)
    }

    /// Writes greyscale frames with the exact 256-level grey palette (index = grey level).
    public static func write(grayFrames: [GrayImage], delayCentiseconds: Int = 10, loop: Bool = true,
                             to url: URL) throws {
        let delays = Array(repeating: delayCentiseconds, count: grayFrames.count)
        try checkSizes(grayFrames.map { ($0.width, $0.height) }, delays: delays, url: url)
        let grays = (0...255).map { Color(r: UInt8($0), g: UInt8($0), b: UInt8($0)) }
        try encode(grayFrames.map(\.pixels), width: grayFrames[0].width, height: grayFrames[0].height,
                   colors: grays, delays: delays, loop: loop, to: url)
    }

    private static func checkSizes(_ sizes: [(Int, Int)], delays: [Int], url: URL) throws {
        guard let first = sizes.first else {
            throw FigureError("Cannot write \(url.lastPathComponent): a GIF needs at least one frame.")
        }
        if let bad = sizes.firstIndex(where: { $0 != first }) {
            throw FigureError("Cannot write \(url.lastPathComponent): frame \(bad) is \(sizes[bad].0) x \(sizes[bad].1) but frame 0 is \(first.0) x \(first.1); render every frame at the same size.")
        }
        if first.0 > 65535 || first.1 > 65535 {
            throw FigureError("Cannot write \(url.lastPathComponent): GIF frames are at most 65535 pixels wide and high.")
        }
        if delays.count != sizes.count || delays.contains(where: { $0 < 0 || $0 > 65535 }) {
            throw FigureError("Cannot write \(url.lastPathComponent): give one delay per frame, each 0...65535 centiseconds.")
        }
    }

    /// Writes palette indices (one byte per pixel, row-major, per frame) as a GIF file.
    static func encode(_ frames: [[UInt8]], width: Int, height: Int, colors: [Color],
                       delays: [Int], loop: Bool, to url: URL) throws {
        try AtomicFile.prepareFolder(for: url)
        let temporary = AtomicFile.temporaryURL(for: url)
        var error: Int32 = 0
        guard let gif = EGifOpenFileName(temporary.path, false, &error) else {
            TemporaryFiles.discard(temporary)
            throw FigureError("Cannot write into \(url.deletingLastPathComponent().path) (giflib: \(describe(error))); check that the folder is writable.")
        }
        // The palette size must be a power of two (2...256): pad with black.
        var bits = 1
        while (1 << bits) < colors.count { bits += 1 }
        var table = colors.map { GifColorType(Red: $0.r, Green: $0.g, Blue: $0.b) }
        table += Array(repeating: GifColorType(Red: 0, Green: 0, Blue: 0), count: (1 << bits) - colors.count)
        let map = GifMakeMapObject(Int32(table.count), table)
        defer { GifFreeMapObject(map) }

        func check(_ result: Int32, _ step: String) throws {
            guard result == GIF_OK else {
                let code = gif.pointee.Error
                var ignored: Int32 = 0
                EGifCloseFile(gif, &ignored)
                TemporaryFiles.discard(temporary)
                throw FigureError("Writing \(url.path) failed at the \(step) (giflib: \(describe(code))); check the free disk space.")
            }
        }
        EGifSetGifVersion(gif, true)
        try check(EGifPutScreenDesc(gif, Int32(width), Int32(height), 8, 0, map), "screen descriptor")
        if loop {
            // NETSCAPE2.0 block: sub-block 1 = loop count (little endian), 0 = forever.
            try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), "loop extension")
            try check(EGifPutExtensionBlock(gif, 11, Array("NETSCAPE2.0".utf8)), "loop extension")
            try check(EGifPutExtensionBlock(gif, 3, [UInt8(1), 0, 0]), "loop extension")
            try check(EGifPutExtensionTrailer(gif), "loop extension")
        }
        for (frame, delay) in zip(frames, delays) {
            // Graphics control block: packed flags (0: no transparency, no disposal),
            // delay (centiseconds, little endian), transparent index (unused).
            let control: [UInt8] = [0, UInt8(delay & 0xFF), UInt8(delay >> 8), 0]
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, control), "frame delay")
            try check(EGifPutImageDesc(gif, 0, 0, Int32(width), Int32(height), false, nil), "frame header")
            var rows = frame
            for y in 0..<height {
                try rows.withUnsafeMutableBufferPointer { p in
                    try check(EGifPutLine(gif, p.baseAddress! + y * width, Int32(width)), "frame pixels")
                }
            }
        }
        guard EGifCloseFile(gif, &error) == GIF_OK else {
            TemporaryFiles.discard(temporary)
            throw FigureError("Writing \(url.path) failed while closing it (giflib: \(describe(error))); check the free disk space.")
        }
        try AtomicFile.commit(temporary, to: url)
    }

    static func describe(_ code: Int32) -> String {
        GifErrorString(code).map { String(cString: $0) } ?? "error \(code)"
    }
}
