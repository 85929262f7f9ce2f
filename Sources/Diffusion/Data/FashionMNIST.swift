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
    public init(split: Split = .train, directory: String? = nil, limit: Int? = nil) throws {
        let dir = directory ?? ProcessInfo.processInfo.environment["FASHION_MNIST_DIR"] ?? FashionMNIST.defaultDirectory
        let prefix = split == .train ? "train" : "t10k"
        let imagePath = "\(dir)/\(prefix)-images-idx3-ubyte.gz"
        let labelPath = "\(dir)/\(prefix)-labels-idx1-ubyte.gz"
        guard FileManager.default.fileExists(atPath: imagePath), FileManager.default.fileExists(atPath: labelPath) else {
            throw FashionMNISTError("Fashion-MNIST is missing (\(imagePath) not found); install dataset-fashion-mnist: sudo apt-get install dataset-fashion-mnist (or set FASHION_MNIST_DIR to a folder with the .gz files).")
        }
        let imageFile = try GzipReader(imagePath)
        let header = try imageFile.readUInt32s(4)
        guard header[0] == 0x803, header[2] > 0, header[3] > 0 else {
            throw FashionMNISTError("\(imagePath) is not an IDX image file (magic \(String(header[0], radix: 16))); reinstall dataset-fashion-mnist.")
        }
        let total = Int(header[1])
        count = min(total, limit ?? total)
        rows = Int(header[2]); cols = Int(header[3])
        pixels = try imageFile.readBytes(count * rows * cols)

        let labelFile = try GzipReader(labelPath)
        let labelHeader = try labelFile.readUInt32s(2)
        guard labelHeader[0] == 0x801, Int(labelHeader[1]) == total else {
            throw FashionMNISTError("\(labelPath) is not the IDX label file matching \(imagePath); reinstall dataset-fashion-mnist.")
        }
        labels = try labelFile.readBytes(count)
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

/// Sequential reads from a .gz file through zlib's gzopen/gzread.
final class GzipReader {
    private let file: gzFile
    private let path: String

    init(_ path: String) throws {
        guard let f = gzopen(path, "rb") else {
            throw FashionMNISTError("cannot open \(path); check its permissions or reinstall dataset-fashion-mnist.")
        }
        file = f
        self.path = path
    }

    deinit { gzclose(file) }

    func readBytes(_ n: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var done = 0
        while done < n {
            let chunk = Int32(min(n - done, 1 << 24))
            let got = out.withUnsafeMutableBytes { gzread(file, $0.baseAddress! + done, UInt32(chunk)) }
            guard got > 0 else {
                throw FashionMNISTError("\(path) ends early (read \(done) of \(n) bytes); the file is damaged, reinstall dataset-fashion-mnist.")
            }
            done += Int(got)
        }
        return out
    }

    /// Big-endian 32-bit words (the IDX header).
    func readUInt32s(_ n: Int) throws -> [UInt32] {
        let b = try readBytes(4 * n)
        return (0..<n).map { i in (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(b[4 * i + $1]) } }
    }
}
