import TinyTensor

/// Tensors of images to pictures, like torchvision's `make_grid` + `save_image`.
///
/// Pixel values are expected in [-1, 1] (the range diffusion models work in) and mapped to
/// bytes by `byte = round((clamp(v, -1, 1) + 1) / 2 * 255)`; pass `range: 0...1` for
/// tensors in [0, 1]. One channel is shown as grey, three as RGB.
///
///     let samples = ...                                          // [64, 1, 28, 28]
///     let grid = ImageGrid.make(samples, nrow: 8, padding: 2, scale: 2)
///     try grid.writePNG(to: URL(fileURLWithPath: "output/samples.png"))
public enum ImageGrid {
    /// Tiles a batch `[N, C, H, W]` (C = 1 or 3) into rows of `nrow` images.
    ///
    /// Images are placed left to right, then top to bottom, each enlarged `scale` times
    /// (nearest neighbour: sharp pixels), with `padding` pixels of `padColor` around and
    /// between them. The result is `cols * (W * scale + padding) + padding` wide, where
    /// `cols = min(nrow, N)`, and `rows * (H * scale + padding) + padding` high, where
    /// `rows = ceil(N / cols)`; missing cells of the last row stay `padColor`.
    public static func make(_ images: Tensor, nrow: Int = 8, padding: Int = 2, scale: Int = 1,
                            padColor: Color = .white, range: ClosedRange<Float> = -1...1) -> Canvas {
        precondition(images.rank == 4, "ImageGrid.make: expected [N, C, H, W], got shape \(images.shape)")
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        precondition(c == 1 || c == 3, "ImageGrid.make: C must be 1 or 3, got shape \(images.shape)")
        precondition(n >= 1 && nrow >= 1 && padding >= 0 && scale >= 1,
                     "ImageGrid.make: need N >= 1, nrow >= 1, padding >= 0, scale >= 1")
        let cols = min(nrow, n)
        let rows = (n + cols - 1) / cols
        let (cellW, cellH) = (w * scale + padding, h * scale + padding)
        var canvas = Canvas(width: cols * cellW + padding, height: rows * cellH + padding, background: padColor)
        let plane = h * w
        images.data.withUnsafeBufferPointer { data in
            for k in 0..<n {
                let (left, top) = (padding + (k % cols) * cellW, padding + (k / cols) * cellH)
                let base = k * c * plane
                for y in 0..<h * scale {
                    for x in 0..<w * scale {
                        let i = (y / scale) * w + x / scale
                        let r = byte(data[base + i], range)
                        let g = c == 3 ? byte(data[base + plane + i], range) : r
                        let b = c == 3 ? byte(data[base + 2 * plane + i], range) : r
                        canvas[left + x, top + y] = Color(r: r, g: g, b: b)
                    }
                }
            }
        }
        return canvas
    }

    /// One image, `[H, W]` (grey) or `[C, H, W]` with C = 1 or 3, enlarged `scale` times.
    public static func image(_ tensor: Tensor, scale: Int = 1, range: ClosedRange<Float> = -1...1) -> Canvas {
        switch tensor.rank {
        case 2:
            return make(Tensor(tensor.data, shape: [1, 1] + tensor.shape), nrow: 1, padding: 0, scale: scale, range: range)
        case 3:
            return make(Tensor(tensor.data, shape: [1] + tensor.shape), nrow: 1, padding: 0, scale: scale, range: range)
        default:
            preconditionFailure("ImageGrid.image: expected [H, W] or [C, H, W], got shape \(tensor.shape)")
        }
    }

    /// A value in `range` to a byte: clamp, rescale to [0, 255], round. NaN becomes 0.
    @inline(__always)
    static func byte(_ v: Float, _ range: ClosedRange<Float>) -> UInt8 {
        guard !v.isNaN else { return 0 }
        let t = (min(max(v, range.lowerBound), range.upperBound) - range.lowerBound) / (range.upperBound - range.lowerBound)
        return UInt8((t * 255).rounded())
    }
}
