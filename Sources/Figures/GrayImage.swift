/// An 8-bit greyscale raster: one byte per pixel, row-major, top row first.
/// 0 is black, 255 is white. Used for single-channel images (Fashion-MNIST, noise) and for
/// GIF frames that must keep every grey level exactly.
public struct GrayImage: Equatable {
    public let width: Int
    public let height: Int
    /// `width * height` bytes, row-major.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "GrayImage: size \(width) x \(height) must be positive")
        precondition(pixels.count == width * height,
                     "GrayImage: \(pixels.count) bytes given, \(width * height) needed for \(width) x \(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniform image of one grey level.
    public init(width: Int, height: Int, level: UInt8 = 0) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: level, count: width * height))
    }

    /// The grey level of pixel `(x, y)`.
    public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// The same picture as an RGB canvas (R = G = B).
    public var canvas: Canvas {
        var rgb = [UInt8](repeating: 0, count: 3 * pixels.count)
        for (i, v) in pixels.enumerated() {
            rgb[3 * i] = v
            rgb[3 * i + 1] = v
            rgb[3 * i + 2] = v
        }
        return Canvas(width: width, height: height, pixels: rgb)
    }
}

extension Canvas {
    /// The picture in grey: `Y = 0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601 luma), rounded.
    public var grayImage: GrayImage {
        var grey = [UInt8](repeating: 0, count: width * height)
        for i in 0..<grey.count {
            let y = 0.299 * Float(pixels[3 * i]) + 0.587 * Float(pixels[3 * i + 1]) + 0.114 * Float(pixels[3 * i + 2])
            grey[i] = UInt8(min(255, y + 0.5))
        }
        return GrayImage(width: width, height: height, pixels: grey)
    }
}
