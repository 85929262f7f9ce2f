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
        var out = uninitializedFloats(planes * oh * ow)                  // every element written below
        data.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { yb in
            let (xp, yp) = (xb.baseAddress!, yb.baseAddress!)
            Parallel.forRanges(planes, grain: 16) { range in
                for p in range {
                    for y in 0..<h {
                        // One output row from input row y, then s − 1 copies of it.
                        let src = xp + p * h * w + y * w, row = yp + p * oh * ow + y * s * ow
                        for x in 0..<w { (row + x * s).update(repeating: src[x], count: s) }
                        for copy in 1..<s { (row + copy * ow).update(from: row, count: ow) }
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
        let outShape = [shape[0], shape[1] * r * r, oh, ow]               // [B, C·r², H/r, W/r]
        // Output plane (p, p1, p2) holds input pixels (y·r + p1, x·r + p2) of input plane p.
        // Forward: `from` is x and `to` the output; backward: `from` is the output's gradient and
        // `to` the input's (each input element receives exactly one output element's gradient).
        func shuffle(_ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<Float>, forward: Bool) {
            Parallel.forRanges(planes, grain: 4) { range in
                for p in range {
                    for p1 in 0..<r {
                        for p2 in 0..<r {
                            let outPlane = (p * r * r + p1 * r + p2) * oh * ow
                            for y in 0..<oh {
                                let i = p * h * w + (y * r + p1) * w + p2, o = outPlane + y * ow
                                if forward {
                                    for x in 0..<ow { to[o + x] = from[i + x * r] }
                                } else {
                                    for x in 0..<ow { to[i + x * r] = from[o + x] }
                                }
                            }
                        }
                    }
                }
            }
        }
        var out = uninitializedFloats(count)                              // every element written below
        data.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { yb in
            shuffle(xb.baseAddress!, yb.baseAddress!, forward: true)
        } }
        let n = count
        return Tensor.record(out, shape: outShape, inputs: [self], op: "pixelUnshuffle") { g in
            var dx = uninitializedFloats(n)                                // every element written below
            g.withUnsafeBufferPointer { gb in dx.withUnsafeMutableBufferPointer { db in
                shuffle(gb.baseAddress!, db.baseAddress!, forward: false)
            } }
            return [dx]
        }
    }
}
