// libFuzzer entry point for the three readers that take bytes from outside:
//
//   FUZZ_READER=idx          IDXReader and FashionMNIST (gzipped or plain IDX files)
//   FUZZ_READER=png          PNG.decode into every layout
//   FUZZ_READER=safetensors  SafeTensors.decode
//
// Built only by `make fuzz` (-sanitize=fuzzer; libFuzzer supplies main). A thrown error is a
// correct answer; a trap, a crash or an allocation beyond -rss_limit_mb is a finding.
import Diffusion
import Figures
import Foundation
import TinyTensor

enum Reader: String { case idx, png, safetensors }

let reader: Reader = {
    let name = ProcessInfo.processInfo.environment["FUZZ_READER"] ?? "safetensors"
    guard let r = Reader(rawValue: name) else { fatalError("FUZZ_READER must be idx, png or safetensors, not \(name)") }
    return r
}()

/// A private scratch folder for the IDX files (in memory when /dev/shm exists).
let scratch: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = "\(base)/fuzz-idx-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}()

func write(_ bytes: ArraySlice<UInt8>, _ name: String) -> String {
    let path = "\(scratch)/\(name)"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

/// Byte 0 chooses where the input splits into the images file and the labels file.
func fuzzIDX(_ input: [UInt8]) {
    guard let first = input.first else { return }
    let rest = input.dropFirst()
    let split = rest.startIndex + Int(first) * rest.count / 256
    let images = write(rest[rest.startIndex..<split], "train-images-idx3-ubyte.gz")
    _ = write(rest[split...], "train-labels-idx1-ubyte.gz")
    if let file = try? IDXReader(images, dimensions: 3, kind: "image"), file.dimensions[0] > 0 {
        _ = try? file.readItems(min(file.dimensions[0], 4), total: file.dimensions[0],
                                itemBytes: max(1, min(file.dimensions[1] &* file.dimensions[2], 1 << 20)))
    }
    for limit in [nil, 2] as [Int?] {
        if let data = try? FashionMNIST(split: .train, directory: scratch, limit: limit, imageSize: nil) {
            precondition(data.pixels.count == data.count * data.rows * data.cols && data.labels.count == data.count)
            _ = data.images(Array(0..<data.count))
        }
    }
}

func fuzzPNG(_ input: [UInt8]) {
    for layout in [PNG.Layout.gray, .grayAlpha, .rgb, .rgba] {
        if let image = try? PNG.decode(input, layout: layout) {
            precondition(image.pixels.count == image.width * image.height * layout.channels)
        }
    }
}

func fuzzSafeTensors(_ input: [UInt8]) {
    if let file = try? SafeTensors.decode(Data(input)) {
        for (_, t) in file.tensors { precondition(t.data.count == t.shape.reduce(1, *)) }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    switch reader {
    case .idx: fuzzIDX(input)
    case .png: fuzzPNG(input)
    case .safetensors: fuzzSafeTensors(input)
    }
    return 0
}

// SwiftPM links an executable target's entry point as `<Module>_main` and points `main` at it,
// so libFuzzer's own main is not used: start its driver from here.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("FuzzReaders_main")
public func fuzzReadersMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc, vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
