import Foundation
import Testing
@testable import Figures

/// PNG files built byte by byte (stored, uncompressed deflate), for headers libpng's writer
/// would never produce: absurd sizes, 16-bit samples without gamma information.
enum HandMadePNG {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }

    static func chunk(_ kind: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(kind.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    /// zlib stream of one stored block (at most 65535 bytes).
    static func zlibStored(_ raw: [UInt8]) -> [UInt8] {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let n = UInt16(raw.count)
        return [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + raw + be32(b << 16 | a)
    }

    /// A PNG with the given header and rows (each row gets filter byte 0).
    static func make(width: UInt32, height: UInt32, depth: UInt8, colour: UInt8, rows: [[UInt8]]) -> [UInt8] {
        let header = be32(width) + be32(height) + [depth, colour, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
            + chunk("IDAT", zlibStored(rows.flatMap { [0] + $0 })) + chunk("IEND", [])
    }
}

@Suite struct PNGReaderLimitsTests {
    @Test func headerClaimingAMillionByAMillionPixelsIsRefusedBeforeAllocating() throws {
        let bytes = HandMadePNG.make(width: 1_000_000, height: 1_000_000, depth: 8, colour: 0, rows: [])
        #expect(bytes.count < 80)
        do {
            _ = try PNG.decode(bytes, layout: .rgb, name: "huge.png")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("huge.png claims 1000000 x 1000000 pixels"), "\(error)")
        }
        // Within the pixel limit but far more than 100 bytes could hold.
        let tooFew = HandMadePNG.make(width: 8000, height: 8000, depth: 8, colour: 2, rows: [])
        #expect(throws: FigureError.self) { try PNG.decode(tooFew, layout: .rgb) }
        do { _ = try PNG.decode(tooFew, layout: .rgb) } catch { #expect("\(error)".contains("too few to hold them")) }
        // Through a file, as the chapters read it.
        let url = scratchFolder().appendingPathComponent("huge.png")
        try Data(bytes).write(to: url)
        #expect(throws: FigureError.self) { try PNG.readTensor(from: url) }
    }

    @Test func sixteenBitGreyIsScaledNotBrightened() throws {
        // 32768 / 65535 is half the range: 128 / 255, not the 185 a linear-light reading gives.
        let row: [UInt8] = [0x80, 0x00, 0xFF, 0xFF, 0x00, 0x00]          // 32768, 65535, 0
        let bytes = HandMadePNG.make(width: 3, height: 1, depth: 16, colour: 0, rows: [row])
        let image = try PNG.decode(bytes, layout: .gray)
        #expect(image.pixels == [128, 255, 0], "\(image.pixels)")
    }

    @Test func folderAndUnreadableFileAreNamedForWhatTheyAre() throws {
        let folder = scratchFolder()
        do { _ = try PNG.readTensor(from: folder) } catch { #expect("\(error)".contains("is a folder, not a PNG file")) }
        // Permissions do not stop root, so this half runs only for other users.
        if getuid() != 0 {
            let url = folder.appendingPathComponent("secret.png")
            try Data(HandMadePNG.make(width: 1, height: 1, depth: 8, colour: 0, rows: [[7]])).write(to: url)
            chmod(url.path, 0)
            do {
                _ = try PNG.readTensor(from: url)
                Issue.record("expected an error")
            } catch {
                #expect("\(error)".contains("Permission denied") && "\(error)".contains("check its permissions"), "\(error)")
            }
        }
    }

    @Test func writesLeaveNoTemporaryFiles() throws {
        let folder = scratchFolder()
        try PNG.write(pixels: [1, 2, 3, 4], width: 2, height: 2, layout: .gray, to: folder.appendingPathComponent("a.png"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["a.png"])
    }
}
