import CPNG
import Foundation
import Testing
import TinyTensor
@testable import Figures

@Suite struct PNGTests {
    @Test func rgbRoundTripIsExact() throws {
        let folder = scratchFolder()
        let canvas = Canvas(width: 37, height: 23, pixels: testBytes(37 * 23 * 3, seed: 1))
        let url = folder.appendingPathComponent("nested/deeper/rgb.png")   // folders are created
        try canvas.writePNG(to: url)
        let back = try PNG.readRGB(from: url)
        #expect(back.width == 37 && back.height == 23)
        #expect(back.pixels == canvas.pixels)
        // No temporary file is left next to it.
        let names = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(names == ["rgb.png"])
    }

    @Test func grayRoundTripIsExact() throws {
        let image = GrayImage(width: 16, height: 16, pixels: (0..<256).map(UInt8.init))
        let url = scratchFolder().appendingPathComponent("gray.png")
        try image.writePNG(to: url)
        let back = try PNG.readGray(from: url)
        #expect(back == image)
        let tensor = try PNG.readTensor(from: url, channels: 1)
        #expect(tensor.shape == [1, 16, 16])
        #expect(tensor.data[255] == 1 && tensor.data[0] == 0 && tensor.data[51] == 0.2)
    }

    @Test func rgbaIsReadExactlyOrCompositedOverTheBackground() throws {
        // Four pixels: opaque red, transparent green, half-transparent blue, opaque grey.
        let rgba: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 128, 90, 90, 90, 255]
        let url = scratchFolder().appendingPathComponent("rgba.png")
        try PNG.write(pixels: rgba, width: 2, height: 2, layout: .rgba, to: url)
        #expect(try PNG.read(from: url, layout: .rgba).pixels == rgba)
        let rgb = try PNG.readRGB(from: url)                       // over white
        #expect(rgb[0, 0] == Color(r: 255, g: 0, b: 0))
        #expect(rgb[1, 0] == .white)
        #expect(rgb[1, 1] == Color(r: 90, g: 90, b: 90))
        let blue = rgb[0, 1]
        #expect(blue.b == 255 && blue.r > 100 && blue.r < 230)        // a light blue
        let tensor = try PNG.readTensor(from: url, channels: 4)   // [4, 2, 2]
        #expect(tensor.shape == [4, 2, 2])
        #expect(tensor[3, 0, 1] == 0 && tensor[3, 1, 0] == Float(128) / 255)
    }

    @Test func paletteFileIsExpandedToRGB() throws {
        // A palette PNG written with libpng's simplified API: 3 x 2 pixels, 4 colours.
        let colormap: [UInt8] = [0, 0, 0, 255, 255, 255, 31, 119, 180, 214, 39, 40]
        let indices: [UInt8] = [0, 1, 2, 3, 2, 1]
        let url = scratchFolder().appendingPathComponent("palette.png")
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = 3
        image.height = 2
        image.format = 0x02 | 0x08          // PNG_FORMAT_RGB_COLORMAP
        image.colormap_entries = 4
        let ok = png_image_write_to_file(&image, url.path, 0, indices, 3, colormap)
        #expect(ok != 0, "libpng: \(PNG.message(image))")
        let rgb = try PNG.readRGB(from: url)
        let expected = indices.flatMap { Array(colormap[3 * Int($0)..<3 * Int($0) + 3]) }
        #expect(rgb.pixels == expected)
        let tensor = try PNG.readTensor(from: url)                // [3, 2, 3]
        #expect(tensor.shape == [3, 2, 3])
        #expect(tensor[2, 0, 2] == Float(180) / 255)
    }

    @Test func missingCorruptAndForeignFilesThrowOneClearSentence() throws {
        let folder = scratchFolder()
        let missing = folder.appendingPathComponent("nope.png")
        let e1 = #expect(throws: FigureError.self) { try PNG.readRGB(from: missing) }
        #expect(e1?.description.contains("No PNG file") == true)

        let text = folder.appendingPathComponent("notes.png")
        try Data("hello, I am text".utf8).write(to: text)
        let e2 = #expect(throws: FigureError.self) { try PNG.readRGB(from: text) }
        #expect(e2?.description.contains("not a readable PNG") == true)

        // A real PNG cut in half: the header reads, the pixels do not.
        let canvas = Canvas(width: 64, height: 64, pixels: testBytes(64 * 64 * 3, seed: 2))
        let bytes = try canvas.pngData()
        let cut = folder.appendingPathComponent("cut.png")
        try Data(bytes[0..<bytes.count / 2]).write(to: cut)
        let e3 = #expect(throws: FigureError.self) { try PNG.readRGB(from: cut) }
        #expect(e3?.description.contains("damaged PNG") == true)

        // A flipped byte in the pixel data breaks its CRC.
        var flipped = bytes
        flipped[bytes.count - 40] ^= 0xFF
        #expect(throws: FigureError.self) { try PNG.decode(flipped, layout: .rgb) }
        #expect(throws: FigureError.self) { try PNG.readTensor(from: cut, channels: 2) }
    }

    @Test func unwritableFolderIsAClearError() throws {
        let folder = scratchFolder()
        let file = folder.appendingPathComponent("plain-file")
        try Data([1, 2, 3]).write(to: file)
        let target = file.appendingPathComponent("figure.png")        // a "folder" that is a file
        let error = #expect(throws: FigureError.self) { try Canvas(width: 2, height: 2).writePNG(to: target) }
        #expect(error?.description.contains("is a file, not a folder") == true)
        let deeper = file.appendingPathComponent("a/b/figure.png")
        #expect(throws: FigureError.self) { try Canvas(width: 2, height: 2).writePNG(to: deeper) }
    }

    @Test func overwriteReplacesTheOldFile() throws {
        let url = scratchFolder().appendingPathComponent("same.png")
        try Canvas(width: 3, height: 3, background: .black).writePNG(to: url)
        try Canvas(width: 5, height: 4, background: .tab(2)).writePNG(to: url)
        let back = try PNG.readRGB(from: url)
        #expect(back.width == 5 && back[4, 3] == .tab(2))
    }
}
