import Foundation
import TinyTensor

/// The image transforms of the Annotated Diffusion cat demo, without torchvision:
/// `Resize(size)` + `CenterCrop(size)` + `ToTensor()` + `t * 2 − 1`.
public enum ImageTransforms {
    /// Crops the largest centred square out of `image` [C, H, W] and resizes it to
    /// `size` × `size` by area averaging (each output pixel is the mean of the input area it
    /// covers, with fractional weights at the borders: an antialiased downscale, like
    /// torchvision's `Resize(antialias=True)` followed by `CenterCrop`).
    ///
    /// Upscaling works too (then every output pixel covers less than one input pixel and
    /// takes that pixel's value).
    public static func centerCropResize(_ image: Tensor, size: Int) -> Tensor {
        precondition(image.rank == 3, "centerCropResize: expected [C, H, W], got \(image.shape)")
        precondition(size >= 1, "centerCropResize: size must be at least 1")
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        let side = min(h, w)
        let top = (h - side) / 2, left = (w - side) / 2
        let weights = areaWeights(input: side, output: size)   // per output index: [(input index, weight)]
        var out = [Float](repeating: 0, count: c * size * size)
        let x = image.data
        for ch in 0..<c {
            for oy in 0..<size {
                for ox in 0..<size {
                    var acc: Float = 0
                    for (iy, wy) in weights[oy] {
                        let row = (ch * h + top + iy) * w + left
                        for (ix, wx) in weights[ox] { acc += wy * wx * x[row + ix] }
                    }
                    out[(ch * size + oy) * size + ox] = acc
                }
            }
        }
        return Tensor(out, shape: [c, size, size])                // [C, size, size]
    }

    /// For each of `output` cells, the input cells it overlaps and their weights (summing to 1).
    static func areaWeights(input: Int, output: Int) -> [[(Int, Float)]] {
        let scale = Double(input) / Double(output)
        return (0..<output).map { o in
            let lo = Double(o) * scale, hi = Double(o + 1) * scale
            var list: [(Int, Float)] = []
            var i = Int(lo.rounded(.down))
            while Double(i) < hi && i < input {
                let overlap = min(hi, Double(i + 1)) - max(lo, Double(i))
                if overlap > 1e-12 { list.append((i, Float(overlap / scale))) }
                i += 1
            }
            return list
        }
    }

    /// Pixels in [0, 1] to the model range [−1, 1]: x ↦ 2x − 1 (DDPM §4: "scaled linearly to [−1, 1]").
    public static func toModelRange(_ x: Tensor) -> Tensor { x * 2 - 1 }

    /// The model range [−1, 1] back to [0, 1], clamped: x ↦ clamp((x + 1)/2, 0, 1).
    public static func toUnitRange(_ x: Tensor) -> Tensor { ((x + 1) * 0.5).clamp(min: 0, max: 1) }
}

extension ImageTransforms {
    /// Mirrors the images whose entry in `flips` is true left to right
    /// (torchvision's `RandomHorizontalFlip`, with the coin tosses given).
    public static func horizontalFlip(_ images: Tensor, where flips: [Bool]) -> Tensor {
        precondition(images.rank == 4 && images.shape[0] == flips.count,
                     "horizontalFlip: \(flips.count) coin tosses for images of shape \(images.shape)")
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        var out = images.data
        for i in 0..<n where flips[i] {
            for row in 0..<(c * h) {
                let base = (i * c * h + row) * w
                for x in 0..<w { out[base + x] = images.data[base + w - 1 - x] }
            }
        }
        return Tensor(out, shape: images.shape)                               // [N, C, H, W]
    }
}
