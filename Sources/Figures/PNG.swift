import CPNG
import Foundation
import TinyTensor

/// PNG files through libpng's "simplified API" (`png_image`, libpng 1.6).
///
/// libpng reports errors with `longjmp`, which Swift cannot survive. The simplified API
/// catches that jump inside libpng and returns 0 with a message in `image.message`; this
/// file turns every such failure into a `FigureError`. Greyscale, RGB, RGBA and palette files
/// of any bit depth are read into 8-bit pixels (16-bit samples scaled, 32768 → 128), after the
/// header's size is checked against `maxPixels` and the file's length; greyscale and RGB are
/// written.
///
///     try canvas.writePNG(to: URL(fileURLWithPath: "out/figure.png"))
///     let photo = try PNG.readRGB(from: URL(fileURLWithPath: "cat.png"))      // Canvas
///     let x = try PNG.readTensor(from: URL(fileURLWithPath: "cat.png"))       // [3, H, W] in [0, 1]
public enum PNG {
    /// Pixel layouts of the simplified API (`PNG_FORMAT_*` in png.h).
    public enum Layout: UInt32 {
        case gray = 0        // PNG_FORMAT_GRAY
        case grayAlpha = 1   // PNG_FORMAT_GA
        case rgb = 2         // PNG_FORMAT_RGB
        case rgba = 3        // PNG_FORMAT_RGBA
        /// Bytes per pixel.
        public var channels: Int { [1, 2, 3, 4][Int(rawValue)] }
    }

    // MARK: Writing

    /// Encodes 8-bit pixels (row-major, `layout.channels` bytes per pixel) as PNG bytes.
    public static func encode(pixels: [UInt8], width: Int, height: Int, layout: Layout) throws -> [UInt8] {
        precondition(pixels.count == width * height * layout.channels,
                     "PNG.encode: \(pixels.count) bytes do not fill \(width) x \(height) x \(layout.channels)")
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = layout.rawValue
        let stride = Int32(width * layout.channels)
        // First call: ask for the size; second call: encode into a buffer of that size.
        var size = 0
        let sized = pixels.withUnsafeBytes {
            png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil)
        }
        guard sized != 0, size > 0 else { throw failure("Cannot encode a \(width) x \(height) PNG", image) }
        var bytes = [UInt8](repeating: 0, count: size)
        let ok = bytes.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes {
                png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, stride, nil)
            }
        }
        guard ok != 0 else { throw failure("Cannot encode a \(width) x \(height) PNG", image) }
        return Array(bytes[0..<size])
    }

    /// Writes 8-bit pixels to `url` atomically (temporary file, then rename), creating the
    /// folder if needed.
    public static func write(pixels: [UInt8], width: Int, height: Int, layout: Layout, to url: URL) throws {
        let bytes = try encode(pixels: pixels, width: width, height: height, layout: layout)
        try AtomicFile.write(bytes, to: url)
    }

    // MARK: Reading

    /// Decodes any 8-bit PNG (grey, grey+alpha, RGB, RGBA, palette) into `layout`.
    ///
    /// When the file has transparency and `layout` has none, the image is composited onto
    /// `background` (white by default), as a viewer would show it.
    public static func decode(_ bytes: [UInt8], layout: Layout, background: Color = .white,
                              name: String = "PNG data") throws -> (pixels: [UInt8], width: Int, height: Int) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else {
            defer { png_image_free(&image) }
            throw notPNG(name, image)
        }
        return try finish(&image, layout: layout, background: background, name: name, fileBytes: bytes.count)
    }

    /// Reads the PNG file at `url` into `layout`. The file is read whole (at most `maxFileBytes`)
    /// and its header checked against `maxPixels` and its own size before any pixel memory is taken.
    public static func read(from url: URL, layout: Layout, background: Color = .white)
        throws -> (pixels: [UInt8], width: Int, height: Int) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw FigureError("No PNG file at \(url.path); check the path.")
        }
        guard !isFolder.boolValue else {
            throw FigureError("\(url.path) is a folder, not a PNG file; pass the path of a .png file.")
        }
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            let reason = String(cString: strerror(errno))
            throw FigureError("Cannot open \(url.path) (\(reason)); check its permissions (chmod a+r).")
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()).map(Int.init) ?? 0
        guard size <= maxFileBytes else {
            throw FigureError("\(url.path) is \(size / 1_000_000) MB, more than the \(maxFileBytes / 1_000_000) MB a PNG may have here; shrink the image first.")
        }
        let data: Data
        do {
            try handle.seek(toOffset: 0)
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw FigureError("Reading \(url.path) failed (\(String(cString: strerror(errno)))); check the disk and the file.")
        }
        return try decode([UInt8](data), layout: layout, background: background, name: url.path)
    }

    /// The largest image read, in pixels (64 megapixels, e.g. 8192 x 8192).
    public static let maxPixels = 1 << 26
    /// The largest PNG file read, in bytes.
    public static let maxFileBytes = 1 << 30

    /// Reads a PNG file as an RGB canvas.
    public static func readRGB(from url: URL, background: Color = .white) throws -> Canvas {
        let (pixels, width, height) = try read(from: url, layout: .rgb, background: background)
        return Canvas(width: width, height: height, pixels: pixels)
    }

    /// Reads a PNG file as a greyscale image (colour files are converted by libpng).
    public static func readGray(from url: URL, background: Color = .white) throws -> GrayImage {
        let (pixels, width, height) = try read(from: url, layout: .gray, background: background)
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// Reads a PNG file as a tensor `[C, H, W]` with values `byte / 255` in [0, 1]:
    /// `channels` 1 (grey), 3 (RGB) or 4 (RGBA). For the [-1, 1] range of diffusion models,
    /// use `x * 2 - 1`.
    public static func readTensor(from url: URL, channels: Int = 3) throws -> Tensor {
        let layout: Layout
        switch channels {
        case 1: layout = .gray
        case 3: layout = .rgb
        case 4: layout = .rgba
        default: throw FigureError("PNG.readTensor: channels must be 1, 3 or 4, not \(channels).")
        }
        let (pixels, width, height) = try read(from: url, layout: layout)
        var data = [Float](repeating: 0, count: pixels.count)
        let plane = width * height
        for i in 0..<plane {
            for c in 0..<channels { data[c * plane + i] = Float(pixels[i * channels + c]) / 255 }
        }
        return Tensor(data, shape: [channels, height, width])  // [C, H, W]
    }

    // MARK: Helpers

    private static func finish(_ image: inout png_image, layout: Layout, background: Color,
                               name: String, fileBytes: Int) throws -> (pixels: [UInt8], width: Int, height: Int) {
        defer { png_image_free(&image) }
        let width = Int(image.width), height = Int(image.height)
        // Check the header before allocating: a sane size, and no more pixels than the file's
        // compressed bytes can hold (deflate expands at most 1032-fold; 1-bit pixels are 8 a byte).
        let (pixelCount, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, pixelCount <= maxPixels else {
            throw FigureError("\(name) claims \(width) x \(height) pixels, more than the \(maxPixels / 1_000_000) megapixels read here; use a smaller image.")
        }
        guard pixelCount <= 8 * 1032 * fileBytes + (1 << 16) else {
            throw FigureError("\(name) claims \(width) x \(height) pixels but has only \(fileBytes) bytes, too few to hold them; the file is damaged, re-export or re-download it.")
        }
        // 16-bit files without gamma information hold sRGB-encoded values like 8-bit ones;
        // without this flag libpng would take them as linear light and brighten them.
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        image.format = layout.rawValue
        var pixels = [UInt8](repeating: 0, count: pixelCount * layout.channels)
        var back = png_color(red: background.r, green: background.g, blue: background.b)
        let ok = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, &back, $0.baseAddress, Int32(width * layout.channels), nil)
        }
        guard ok != 0 else {
            throw FigureError("\(name) is a damaged PNG (libpng: \(message(image))); re-export or re-download it.")
        }
        return (pixels, width, height)
    }

    private static func notPNG(_ name: String, _ image: png_image) -> FigureError {
        FigureError("\(name) is not a readable PNG (libpng: \(message(image))); check that it is a PNG file.")
    }

    private static func failure(_ what: String, _ image: png_image) -> FigureError {
        FigureError("\(what) (libpng: \(message(image))).")
    }

    /// The NUL-terminated `message` field of a `png_image`.
    static func message(_ image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// Anything that writes itself as a PNG file: a `Canvas`, a `Figure`, a `GrayImage`.
public protocol PNGWritable {
    func writePNG(to url: URL) throws
}

extension Canvas: PNGWritable {
    /// Writes this canvas as an 8-bit RGB PNG (atomically, creating the folder if needed).
    public func writePNG(to url: URL) throws {
        try PNG.write(pixels: pixels, width: width, height: height, layout: .rgb, to: url)
    }

    /// The canvas encoded as PNG bytes.
    public func pngData() throws -> [UInt8] {
        try PNG.encode(pixels: pixels, width: width, height: height, layout: .rgb)
    }
}

extension GrayImage: PNGWritable {
    /// Writes this image as an 8-bit greyscale PNG (atomically, creating the folder if needed).
    public func writePNG(to url: URL) throws {
        try PNG.write(pixels: pixels, width: width, height: height, layout: .gray, to: url)
    }
}
