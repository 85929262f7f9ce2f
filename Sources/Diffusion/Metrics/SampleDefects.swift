import TinyTensor

/// What is wrong with a sample that is not a garment at all, so that no judge scores it as one.
///
/// A classifier must answer one of its ten classes for every image, black or white ones too:
/// Chapter 6's calls an almost black image a sandal (the class with the fewest bright pixels).
/// Strong guidance draws such images, so a measure of "the class asked for" must take them out
/// first. The two rules look at the pixels brighter than −0.5 (a quarter of the way from the
/// black background, −1, to white, 1), on images in [−1, 1]:
///
/// - **empty**: fewer than `minimumForeground` (20) such pixels: no garment drawn. 8 of the
///   10,000 test images (0.08 %: faint dark tops and shirts, one sneaker) and 27 of the 60,000
///   training images have fewer than 20, against a median of 323.
/// - **saturated**: more than `maximumForeground` (720 of 784) such pixels: the frame burnt out
///   to bright, no outline left. No real image has more than 707 (test) or 704 (training).
///
/// Pixels beyond the data's range alone do not make a sample defective: an over-guided garment
/// whose white overshoots 1 or whose background sinks below −1 is still that garment (Chapter 8
/// counts such pixels apart).
public enum SampleDefect: String, Codable, CaseIterable, Sendable {
    case empty, saturated

    /// Pixels brighter than this are foreground.
    public static let foregroundLevel: Float = -0.5
    /// An image with fewer foreground pixels than this is `empty`.
    public static let minimumForeground = 20
    /// An image of 28 × 28 with more foreground pixels than this is `saturated` (scaled by the
    /// image's size for other sizes).
    public static let maximumForeground = 720

    /// The defect of one image (its pixels, any shape), or nil for an image that may be a garment.
    public static func of<C: Collection>(_ pixels: C) -> SampleDefect? where C.Element == Float {
        let foreground = pixels.reduce(0) { $0 + ($1 > foregroundLevel ? 1 : 0) }
        if foreground < minimumForeground { return .empty }
        if foreground * 784 > maximumForeground * pixels.count { return .saturated }
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
