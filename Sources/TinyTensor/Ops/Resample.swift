// MARK: - Resampling: nearest upsampling and pixel unshuffle

extension Tensor {
    /// Nearest-neighbour upsampling, `nn.Upsample(scale_factor: s, mode: "nearest")`:
    ///
    ///     y[b, c, h, w] = x[b, c, ⌊h / s⌋, ⌊w / s⌋]          [B, C, H, W] → [B, C, s·H, s·W]
    ///
    /// Backward: each input pixel receives the sum of the s × s output pixels it was copied to.
    public func upsampleNearest(scale s: Int = 2) -> Tensor {
        precondition(rank == 4, "upsampleNearest: input must be [B, C, H, W], got \(shape)")
        precondition(s >= 1, "upsampleNearest: scale must be ≥ 1, got \(s)")
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (h * s, w * s)
        var out = [Float](repeating: 0, count: planes * oh * ow)
        data.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { yp in
            Parallel.forRanges(planes, grain: 16) { range in
                for p in range {
                    for y in 0..<oh {
                        let src = p * h * w + (y / s) * w, dst = p * oh * ow + y * ow
                        for x in 0..<ow { yp[dst + x] = xp[src + x / s] }
                    }
                }
            }
        } }
        let outShape = [shape[0], shape[1], oh, ow]                       // [B, C, sH, sW]
        return Tensor.record(out, shape: outShape, inputs: [self], op: "upsampleNearest") { g in
            var dx = [Float](repeating: 0, count: planes * h * w)
            g.withUnsafeBufferPointer { gp in dx.withUnsafeMutableBufferPointer { dp in
                Parallel.forRanges(planes, grain: 16) { range in
                    for p in range {
                        for y in 0..<oh {
                            let src = p * oh * ow + y * ow, dst = p * h * w + (y / s) * w
                            for x in 0..<ow { dp[dst + x / s] += gp[src + x] }
                        }
                    }
                }
            } }
            return [dx]
        }
    }

    /// Space-to-depth, `nn.PixelUnshuffle(r)` = einops `b c (h p1) (w p2) -> b (c p1 p2) h w`:
    ///
    ///     y[b, c·r² + p1·r + p2, h, w] = x[b, c, h·r + p1, w·r + p2]   [B, C, H, W] → [B, C·r², H/r, W/r]
    ///
    /// A pure rearrangement: the backward pass moves each gradient back to where it came from.
    public func pixelUnshuffle(_ r: Int) -> Tensor {
        precondition(rank == 4, "pixelUnshuffle: input must be [B, C, H, W], got \(shape)")
        precondition(r >= 1 && shape[2] % r == 0 && shape[3] % r == 0,
                     "pixelUnshuffle: height and width \(shape[2])×\(shape[3]) must be divisible by \(r)")
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (oh, ow) = (h / r, w / r)
        // source index of every output element, computed once and used both ways
        var index = [Int](repeating: 0, count: count)
        for p in 0..<planes {
            for p1 in 0..<r {
                for p2 in 0..<r {
                    let outPlane = (p * r * r + p1 * r + p2) * oh * ow
                    for y in 0..<oh {
                        for x in 0..<ow { index[outPlane + y * ow + x] = p * h * w + (y * r + p1) * w + x * r + p2 }
                    }
                }
            }
        }
        let out = index.map { data[$0] }
        let outShape = [shape[0], shape[1] * r * r, oh, ow]               // [B, C·r², H/r, W/r]
        let n = count
        return Tensor.record(out, shape: outShape, inputs: [self], op: "pixelUnshuffle") { g in
            var dx = [Float](repeating: 0, count: n)
            for (o, i) in index.enumerated() { dx[i] = g[o] }
            return [dx]
        }
    }
}
