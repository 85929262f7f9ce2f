import Foundation
import Testing
import Diffusion

/// The Fashion-MNIST reader on damaged folders: every probe ends in one thrown sentence that
/// names the file and what to do, never a crash or a huge allocation.
@Suite struct FashionMNISTReaderTests {
    static let dataset = FashionMNIST.defaultDirectory
    static var haveDataset: Bool { FileManager.default.fileExists(atPath: "\(dataset)/t10k-images-idx3-ubyte.gz") }

    /// An IDX header: 0, 0, 0x08, dims, then each dimension as a big-endian UInt32.
    static func header(_ dims: [UInt32], type: UInt8 = 8) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (24 - 8 * UInt32($0))) } }
    }

    /// A folder with a train split written as plain (not gzipped) IDX bytes; zlib reads them as they are.
    static func folder(images: [UInt8]?, labels: [UInt8]?) throws -> String {
        let dir = testScratchRoot.appendingPathComponent("fmnist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let images { try Data(images).write(to: dir.appendingPathComponent("train-images-idx3-ubyte.gz")) }
        if let labels { try Data(labels).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte.gz")) }
        return dir.path
    }

    static func images(_ n: Int, _ rows: Int = 28, _ cols: Int = 28) -> [UInt8] {
        header([UInt32(n), UInt32(rows), UInt32(cols)]) + (0..<(n * rows * cols)).map { UInt8($0 % 256) }
    }
    static func labels(_ values: [UInt8]) -> [UInt8] { header([UInt32(values.count)]) + values }

    /// Loads `dir` and returns the one-sentence error (fails the test if nothing is thrown).
    static func failure(_ dir: String, limit: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try FashionMNIST(split: .train, directory: dir, limit: limit)
            Issue.record("expected an error for \(dir)", sourceLocation: sourceLocation)
            return ""
        } catch {
            let text = "\(error)"
            #expect(error is FashionMNISTError, sourceLocation: sourceLocation)
            #expect(!text.contains("\n") && text.hasSuffix("."), "not one sentence: \(text)", sourceLocation: sourceLocation)
            return text
        }
    }

    @Test func smallValidFolderLoads() throws {
        let dir = try Self.folder(images: Self.images(3), labels: Self.labels([0, 9, 4]))
        let data = try FashionMNIST(split: .train, directory: dir)
        #expect(data.count == 3 && data.rows == 28 && data.labels == [0, 9, 4])
        #expect(try FashionMNIST(split: .train, directory: dir, limit: 2).count == 2)
        #expect(try FashionMNIST(split: .train, directory: dir, limit: 10).count == 3)   // fewer than asked: the caller checks
    }

    @Test func zeroImages() throws {
        let dir = try Self.folder(images: Self.images(0), labels: Self.labels([]))
        #expect(Self.failure(dir).contains("holds no images"))
    }

    @Test func labelOutOfRange() throws {
        let dir = try Self.folder(images: Self.images(3), labels: Self.labels([1, 200, 3]))
        #expect(Self.failure(dir).contains("label 200"))
    }

    @Test func wrongImageSize() throws {
        let dir = try Self.folder(images: Self.images(2, 29, 29), labels: Self.labels([1, 2]))
        #expect(Self.failure(dir).contains("29 x 29 images, but the models here take 28 x 28"))
        // Without the size requirement, 29 × 29 loads.
        #expect(try FashionMNIST(split: .train, directory: dir, imageSize: nil).rows == 29)
    }

    @Test func headerClaimingHugeImagesOrCounts() throws {
        let huge = try Self.folder(images: Self.header([1, 1_000_000, 1_000_000]), labels: Self.labels([1]))
        #expect(Self.failure(huge).contains("1000000 x 1000000 pixels, outside 1 ... 1024"))
        // 4 billion images promised, 2 present: fails on reading, not on allocating.
        let many = try Self.folder(images: Self.header([4_000_000_000, 28, 28]) + [UInt8](repeating: 7, count: 2 * 784),
                                   labels: Self.header([4_000_000_000]) + [1, 2])
        #expect(Self.failure(many, limit: 100).contains("ends after 2 of the 4000000000 images"))
    }

    @Test func rowsZeroIsNotABadMagic() throws {
        let dir = try Self.folder(images: Self.header([2, 0, 28]), labels: Self.labels([1, 2]))
        let text = Self.failure(dir)
        #expect(text.contains("0 x 28 pixels") && !text.contains("magic"), "\(text)")
    }

    @Test func badMagicAndCountsThatDisagree() throws {
        let magic = try Self.folder(images: Self.header([2, 28, 28], type: 9), labels: Self.labels([1, 2]))
        #expect(Self.failure(magic).contains("is not an IDX image file (magic 0x00000903"))
        let disagree = try Self.folder(images: Self.images(3), labels: Self.labels([1, 2]))
        #expect(Self.failure(disagree).contains("has 2 labels but"))
        let truncatedLabels = try Self.folder(images: Self.images(3), labels: Self.header([3]) + [1])
        #expect(Self.failure(truncatedLabels).contains("ends after 1 of the 3 labels"))
    }

    @Test func missingOrEmptyFilesAreNamed() throws {
        let noLabels = try Self.folder(images: Self.images(3), labels: nil)
        let text = Self.failure(noLabels)
        #expect(text.contains("train-labels-idx1-ubyte.gz is missing"), "\(text)")
        let noImages = try Self.folder(images: nil, labels: Self.labels([1]))
        #expect(Self.failure(noImages).contains("train-images-idx3-ubyte.gz is missing"))
        let neither = try Self.folder(images: nil, labels: nil)
        #expect(Self.failure(neither).contains("sudo apt-get install dataset-fashion-mnist"))
        let empty = try Self.folder(images: [], labels: Self.labels([1]))
        #expect(Self.failure(empty).contains("is empty"))
        let short = try Self.folder(images: [0, 0, 8, 3, 0, 0], labels: Self.labels([1]))
        #expect(Self.failure(short).contains("ends after 6 bytes, before the 3 dimension sizes"))
    }

    @Test(.enabled(if: haveDataset)) func corruptAndTruncatedGzip() throws {
        let real = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(Self.dataset)/t10k-images-idx3-ubyte.gz")))
        let labels = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(Self.dataset)/t10k-labels-idx1-ubyte.gz")))
        // The gzip header kept, the deflate stream garbled.
        var corrupt = Array(real.prefix(4096))
        for i in 12..<corrupt.count { corrupt[i] ^= 0xA5 }
        let bad = try Self.folder(images: corrupt, labels: labels)
        let text = Self.failure(bad)
        #expect(text.contains("is not a valid gzip file (zlib: "), "\(text)")
        #expect(!text.contains("read 0 of 16 bytes"))
        // Cut off after 20 kB: the header is there, most images are not.
        let cut = try Self.folder(images: Array(real.prefix(20_000)), labels: labels)
        let cutText = Self.failure(cut)
        #expect(cutText.contains("gzip") || cutText.contains("ends after"), "\(cutText)")
    }

    @Test(.enabled(if: haveDataset)) func realTestSplitLoads() throws {
        let data = try FashionMNIST(split: .test, limit: 100)
        #expect(data.count == 100 && data.rows == 28 && data.cols == 28 && data.labels.allSatisfy { $0 <= 9 })
    }
}
