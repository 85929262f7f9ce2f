import Diffusion
import Testing
import TinyTensor

/// The rule that keeps non-garments out of Chapter 8's accuracy: its two cases on made-up images,
/// its edges, and how rarely it fires on real ones.
@Suite struct SampleDefectTests {
    func image(_ fill: (Int) -> Float) -> [Float] { (0..<784).map(fill) }

    @Test func blackAndNearlyBlackImagesAreEmpty() {
        #expect(SampleDefect.of(image { _ in -1 }) == .empty)
        // 19 bright pixels are still empty, 20 are not.
        #expect(SampleDefect.of(image { $0 < 19 ? 1 : -1 }) == .empty)
        #expect(SampleDefect.of(image { $0 < 20 ? 1 : -1 }) == nil)
        // Pixels at exactly the foreground level do not count.
        #expect(SampleDefect.of(image { $0 < 100 ? SampleDefect.foregroundLevel : -1 }) == .empty)
    }

    @Test func framesFilledWithBrightPixelsAreSaturated() {
        #expect(SampleDefect.of(image { _ in 3 }) == .saturated)
        // 720 bright pixels of 784 may be a garment (no real one has more than 707), 721 are not.
        #expect(SampleDefect.of(image { $0 < 720 ? 1 : -1 }) == nil)
        #expect(SampleDefect.of(image { $0 < 721 ? 1 : -1 }) == .saturated)
        // Out-of-range pixels alone are no defect: a garment over-bright and on a sunken background.
        #expect(SampleDefect.of(image { $0 < 300 ? 1.6 : -1.4 }) == nil)
        // Burnt to black is empty.
        #expect(SampleDefect.of(image { _ in -3 }) == .empty)
    }

    @Test func batchesAreJudgedImageByImage() {
        let pixels = image { _ in -1 } + image { $0 < 300 ? 0.5 : -1 } + image { _ in 0.2 }
        let batch = Tensor(pixels, shape: [3, 1, 28, 28])
        #expect(SampleDefect.of(images: batch) == [.empty, nil, .saturated])
    }

    @Test func realTestImagesAreAlmostNeverDefective() throws {
        guard let test = try? FashionMNIST(split: .test, limit: 10_000) else { return }   // dataset not installed
        let defects = SampleDefect.of(images: test.images(Array(0..<test.count)))
        // The doc comment's numbers: 8 of the 10,000 test images are empty, none saturated.
        #expect(defects.filter { $0 == .empty }.count == (test.count == 10_000 ? 8 : defects.filter { $0 == .empty }.count))
        #expect(!defects.contains(.saturated))
        #expect(defects.filter { $0 != nil }.count * 1000 <= test.count)   // at most 0.1 %
    }
}
