import CZlib
import Foundation
import TinyTensor

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70 000 greyscale 28×28 images of clothing in
/// 10 classes, 60 000 for training and 10 000 for testing — the Annotated Diffusion Model's data.
///
/// Reads the original gzipped IDX files (Debian package `dataset-fashion-mnist` puts them in
/// /usr/share/datasets/fashion-mnist; set `FASHION_MNIST_DIR` or pass `directory:` for another place):
///
///     images: magic 0x00000803, count, rows, cols (big-endian UInt32), then count·rows·cols bytes
///     labels: magic 0x00000801, count, then count bytes (0 ... 9)
public struct FashionMNIST {
    public enum Split: String { case train, test }

    /// The class names, indexed by label.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// Pixels 0 ... 255, image after image, row-major.
    public let pixels: [UInt8]
    public let labels: [UInt8]
    public let count: Int
    public let rows: Int
    public let cols: Int

    /// Loads a split; `limit` keeps only the first images (faster for quick runs).
    ///
    /// Everything is checked before memory is taken for it: each file's magic number and
    /// dimensions, rows × cols equal to `imageSize` (28 × 28 for the models here; nil accepts
    /// any size up to 1024 × 1024), the image and label counts agreeing, the bytes actually
    /// present (read incrementally, so a header that promises more than the file holds fails
    /// without a huge allocation) and every label in 0 ... 9. Each failure is one sentence.
    public init(split: Split = .train, directory: String? = nil, limit: Int? = nil,
                imageSize: (rows: Int, cols: Int)? = (28, 28)) throws {
        let dir = directory ?? ProcessInfo.processInfo.environment["FASHION_MNIST_DIR"] ?? FashionMNIST.defaultDirectory
        let prefix = split == .train ? "train" : "t10k"
        let imagePath = "\(dir)/\(prefix)-images-idx3-ubyte.gz"
        let labelPath = "\(dir)/\(prefix)-labels-idx1-ubyte.gz"
        let fm = FileManager.default
        if !fm.fileExists(atPath: imagePath) && !fm.fileExists(atPath: labelPath) {
            throw FashionMNISTError("Fashion-MNIST is missing (\(imagePath) not found); install dataset-fashion-mnist: sudo apt-get install dataset-fashion-mnist (or set FASHION_MNIST_DIR to a folder with the .gz files).")
        }
        for path in [imagePath, labelPath] where !fm.fileExists(atPath: path) {
            throw FashionMNISTError("\(path) is missing (its partner file is there); reinstall dataset-fashion-mnist or copy the missing file into \(dir).")
        }
        if let limit, limit < 1 { throw FashionMNISTError("FashionMNIST: limit must be at least 1, got \(limit).") }

        let imageFile = try IDXReader(imagePath, dimensions: 3, kind: "image")
        let labelFile = try IDXReader(labelPath, dimensions: 1, kind: "label")
        let (total, r, c) = (imageFile.dimensions[0], imageFile.dimensions[1], imageFile.dimensions[2])
        guard r >= 1, c >= 1, r <= 1024, c <= 1024 else {
            throw FashionMNISTError("\(imagePath) has images of \(r) x \(c) pixels, outside 1 ... 1024; the file is damaged, reinstall dataset-fashion-mnist.")
        }
        if let imageSize, (r, c) != imageSize {
            throw FashionMNISTError("\(imagePath) has \(r) x \(c) images, but the models here take \(imageSize.rows) x \(imageSize.cols) Fashion-MNIST images; point FASHION_MNIST_DIR at the real dataset.")
        }
        guard total >= 1 else {
            throw FashionMNISTError("\(imagePath) holds no images; reinstall dataset-fashion-mnist or point FASHION_MNIST_DIR at a folder with images.")
        }
        guard labelFile.dimensions[0] == total else {
            throw FashionMNISTError("\(labelPath) has \(labelFile.dimensions[0]) labels but \(imagePath) has \(total) images; the two files do not belong together, reinstall dataset-fashion-mnist.")
        }
        count = min(total, limit ?? total)
        rows = r; cols = c
        pixels = try imageFile.readItems(count, total: total, itemBytes: r * c)
        labels = try labelFile.readItems(count, total: total, itemBytes: 1)
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw FashionMNISTError("\(labelPath) gives image \(bad) the label \(labels[bad]), but Fashion-MNIST has classes 0 ... 9 only; the file is damaged, reinstall dataset-fashion-mnist.")
        }
    }

    /// Images scaled to [−1, 1] (x / 127.5 − 1, the Annotated blog's transform), `[N, 1, rows, cols]`.
    public func images(_ indices: [Int]) -> Tensor {
        let size = rows * cols
        var out = [Float](repeating: 0, count: indices.count * size)
        for (n, i) in indices.enumerated() {
            precondition(i >= 0 && i < count, "FashionMNIST: index \(i) out of 0..<\(count)")
            for p in 0..<size { out[n * size + p] = Float(pixels[i * size + p]) / 127.5 - 1 }
        }
        return Tensor(out, shape: [indices.count, 1, rows, cols])         // [N, 1, 28, 28]
    }
}

/// A missing or damaged dataset file; the message says what to install.
public struct FashionMNISTError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// An IDX file (LeCun's format for MNIST), gzipped or not: a 4-byte magic number (0, 0, type
/// 0x08 for unsigned bytes, the number of dimensions), one big-endian UInt32 per dimension,
/// then the bytes. The header is read and checked first; the data is read incrementally, so
/// memory grows only with the bytes really in the file.
public final class IDXReader {
    /// The most bytes `readItems` returns (1 GiB; Fashion-MNIST's training images are 47 MB).
    public static let maxBytes = 1 << 30
    /// The sizes of the dimensions in the header (the first is the item count).
    public let dimensions: [Int]
    private let file: GzipReader
    private let path: String
    private let kind: String

    /// Opens `path` and checks its header: type unsigned byte, `dimensions` dimensions.
    /// `kind` ("image", "label") names the file in messages.
    public init(_ path: String, dimensions expected: Int, kind: String) throws {
        self.path = path
        self.kind = kind
        file = try GzipReader(path)
        let magic = try file.readExactly(4, what: "the 4-byte magic number of an IDX \(kind) file")
        guard magic[0] == 0, magic[1] == 0, magic[2] == 0x08, Int(magic[3]) == expected else {
            let hex = magic.map { String(format: "%02x", $0) }.joined()
            throw FashionMNISTError("\(path) is not an IDX \(kind) file (magic 0x\(hex), expected 0x000008\(String(format: "%02x", expected))); reinstall dataset-fashion-mnist.")
        }
        let header = try file.readExactly(4 * expected, what: "the \(expected) dimension sizes of an IDX \(kind) file")
        dimensions = (0..<expected).map { i in (0..<4).reduce(0) { $0 << 8 | Int(header[4 * i + $1]) } }
    }

    /// Reads the first `count` items of `itemBytes` bytes each; `total` is the count the header
    /// promises (for the message when the file ends early).
    public func readItems(_ count: Int, total: Int, itemBytes: Int) throws -> [UInt8] {
        let (needed, overflow) = count.multipliedReportingOverflow(by: itemBytes)
        precondition(!overflow && count <= total, "IDXReader: \(count) items of \(itemBytes) bytes")
        guard needed <= IDXReader.maxBytes else {
            throw FashionMNISTError("\(path): \(count) \(kind)s of \(itemBytes) bytes would need \(needed / 1_000_000) MB, more than the \(IDXReader.maxBytes / 1_000_000) MB read here; ask for fewer images (limit).")
        }
        let bytes = try file.readUpTo(needed)
        guard bytes.count == needed else {
            throw FashionMNISTError("\(path) ends after \(bytes.count / itemBytes) of the \(total) \(kind)s its header promises; the file is truncated, reinstall dataset-fashion-mnist.")
        }
        return bytes
    }
}

/// Sequential reads from a .gz file through zlib's gzopen/gzread (a file that is not gzipped
/// is read as it is).
final class GzipReader {
    private let file: gzFile
    private let path: String
    /// Bytes read so far (after decompression).
    private(set) var position = 0

    init(_ path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw FashionMNISTError("\(path) is a folder, not a gzipped IDX file; reinstall dataset-fashion-mnist.")
        }
        guard let f = gzopen(path, "rb") else {
            let reason = String(cString: strerror(errno))
            throw FashionMNISTError("cannot open \(path) (\(reason)); check its permissions (chmod a+r) or reinstall dataset-fashion-mnist.")
        }
        file = f
        self.path = path
    }

    deinit { gzclose(file) }

    /// Up to `n` bytes: fewer only at the end of the file. Memory grows in chunks of at most
    /// 16 MiB as bytes actually arrive. A damaged gzip stream throws zlib's reason.
    func readUpTo(_ n: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(min(n, 1 << 20))
        var chunk = [UInt8](repeating: 0, count: min(n, 1 << 24))
        while out.count < n {
            let want = min(n - out.count, chunk.count)
            let got = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress!, UInt32(want)) }
            if got < 0 {
                var code: Int32 = 0
                let reason = gzerror(file, &code).map { String(cString: $0) } ?? "error \(code)"
                throw FashionMNISTError("\(path) is not a valid gzip file (zlib: \(reason)); the file is damaged, reinstall dataset-fashion-mnist.")
            }
            if got == 0 { break }
            out.append(contentsOf: chunk[0..<Int(got)])
        }
        position += out.count
        return out
    }

    /// Exactly `n` bytes of `what`, or one sentence saying the file is empty or too short.
    func readExactly(_ n: Int, what: String) throws -> [UInt8] {
        let b = try readUpTo(n)
        guard b.count == n else {
            throw FashionMNISTError(position == 0
                ? "\(path) is empty; reinstall dataset-fashion-mnist."
                : "\(path) ends after \(position) bytes, before \(what); the file is truncated, reinstall dataset-fashion-mnist.")
        }
        return b
    }
}
