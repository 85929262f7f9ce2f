import TinyTensor

/// What is wrong with a sample that is not a garment at all, so that no judge scores it as one.
///
/// A classifier must answer one of its ten classes for every image, black or white ones too:
/// Chapter 6's calls an almost black image a sandal (the class with the fewest bright pixels).
/// Strong guidance draws such images, so a measure of "the class asked for" must take them out
/// first. The two rules, on images in [−1, 1] (−1 is the black background):
///
/// - **empty**: fewer than `minimumForeground` (20) of its pixels are brighter than −0.5 (a
///   quarter of the way from black to white). The sparsest real garments are sandals; 8 of the
///   10,000 test images (0.08 %) and 27 of the 60,000 training images have fewer than 20 such
///   pixels, against a median of 323.
/// - **saturated**: more than a tenth of its pixels lie beyond the data's range, |x| > 1.1.
///   No real image has a single such pixel; over-guided samples burn out to far past white or
///   black.
public enum SampleDefect: String, Codable, CaseIterable, Sendable {
    case empty, saturated

    /// Pixels brighter than this are foreground (a quarter of the way from black, −1, to white, 1).
    public static let foregroundLevel: Float = -0.5
    /// An image with fewer foreground pixels than this is `empty`.
    public static let minimumForeground = 20
    /// An image with more than this fraction of its pixels beyond ±`saturationLevel` is `saturated`.
    public static let maximumSaturatedFraction = 0.1
    public static let saturationLevel: Float = 1.1

    /// The defect of one image (its pixels, any shape), or nil for an image that may be a garment.
    public static func of<C: Collection>(_ pixels: C) -> SampleDefect? where C.Element == Float {
        var foreground = 0, outOfRange = 0
        for x in pixels {
            if x > foregroundLevel { foreground += 1 }
            if abs(x) > saturationLevel { outOfRange += 1 }
        }
        // Saturation first: a burnt-out image can have few foreground pixels when it burns to black.
        if Double(outOfRange) > maximumSaturatedFraction * Double(pixels.count) { return .saturated }
        if foreground < minimumForeground { return .empty }
        return nil
    }

    /// The defect of every image of a batch.
    /// - Parameter images: [N, C, H, W] in [−1, 1].
    public static func of(images: Tensor) -> [SampleDefect?] {
        precondition(images.shape.count == 4, "expected images [N, C, H, W], got \(images.shape)")
        let n = images.shape[0], size = images.count / max(1, n)
        let data = images.data
        return (0..<n).map { i in of(data[(i * size)..<((i + 1) * size)]) }
    }
}
