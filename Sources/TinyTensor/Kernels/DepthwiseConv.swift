/// A direct kernel for depthwise convolutions (groups = channels, one kH × kW filter per
/// channel, stride 1), such as ConvNeXt's 7 × 7: im2col would copy each pixel 49 times to
/// feed a product with only one output row per group, so here the window slides directly.
///
///     y[b, c, oh, ow] = b_c + Σ_{i, j} w[c, i, j] · x̃[b, c, oh + i, ow + j]
///
/// where x̃ is the plane zero-padded by p. Each output row is computed 16 pixels at a time in
/// one SIMD register: kH·kW fused multiply-adds of shifted rows of x̃. To let every load and
/// every lane be whole, x̃ is copied into a scratch plane whose rows are wide enough for
/// ⌈Wo / 16⌉ · 16 outputs; the extra lanes are computed and thrown away.
///
/// Backward (stride 1):
///
///     dx = depthwise conv of dy, zero-padded by k − 1 − p, with the kernel flipped (i, j → k−1−i, k−1−j)
///     dw[c, i, j] = Σ_{b, oh, ow} dy[b, c, oh, ow] · x̃[b, c, oh + i, ow + j]
///     db[c] = Σ_{b, oh, ow} dy[b, c, oh, ow]
///
/// Jobs are whole (sample, channel) planes for y and dx, and whole channels (looping over the
/// batch in order) for dw: no sum is ever split between threads.
enum DepthwiseConv {
    /// Whether the direct kernel handles this convolution (square kernel, stride 1, p < k).
    static func applies(inChannels: Int, outChannels: Int, groups: Int, g: ConvGeometry) -> Bool {
        groups == inChannels && outChannels == inChannels && groups > 1 && g.stride == 1
            && g.kernelH == g.kernelW && g.padding < g.kernelH
    }

    /// Scratch layout for one padded plane: rows of `rowWidth` floats, `rows` rows.
    struct Padded {
        let rows: Int, rowWidth: Int, vectors: Int
        init(_ g: ConvGeometry) {
            vectors = (g.outW + 15) / 16
            rowWidth = vectors * 16 + g.kernelW - 1
            rows = g.outH + g.kernelH - 1
        }
        var count: Int { rows * rowWidth }

        /// Copies an H × W plane into the scratch with `padding` zeros above/left (zeros elsewhere).
        func fill(_ buffer: UnsafeMutablePointer<Float>, from plane: UnsafePointer<Float>, _ g: ConvGeometry) {
            buffer.update(repeating: 0, count: count)
            for h in 0..<g.height where h + g.padding < rows {
                let width = min(g.width, rowWidth - g.padding)
                (buffer + (h + g.padding) * rowWidth + g.padding).update(from: plane + h * g.width, count: width)
            }
        }
    }

    /// y [B, C, Ho, Wo] = depthwise(x [B, C, H, W], w [C, 1, kH, kW]) + bias.
    static func forward(_ g: ConvGeometry, batch: Int, channels: Int, x: UnsafePointer<Float>,
                        w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let pad = Padded(g), kk = g.kernelH * g.kernelW
        Parallel.forRanges(batch * channels, grain: 4) { jobs in
            let scratch = allocateFloats(pad.count)
            defer { scratch.deallocate() }
            let raw = UnsafeRawPointer(scratch)
            for job in jobs {
                let c = job % channels
                pad.fill(scratch, from: x + job * g.inPlane, g)
                let wc = w + c * kk
                let out = y + job * g.outPlane
                let b0 = SIMD16<Float>(repeating: bias?[c] ?? 0)
                for oh in 0..<g.outH {
                    for v in 0..<pad.vectors {
                        var acc = b0
                        for i in 0..<g.kernelH {
                            let rowOffset = ((oh + i) * pad.rowWidth + v * 16) * 4
                            for j in 0..<g.kernelW {
                                acc.addProduct(raw.loadUnaligned(fromByteOffset: rowOffset + j * 4, as: SIMD16<Float>.self),
                                               SIMD16<Float>(repeating: wc[i * g.kernelW + j]))
                            }
                        }
                        let lanes = min(16, g.outW - v * 16)
                        let dst = out + oh * g.outW + v * 16
                        for l in 0..<lanes { dst[l] = acc[l] }
                    }
                }
            }
        }
    }

    /// dx (overwritten) and dw (overwritten), each only when asked for.
    static func backward(_ g: ConvGeometry, batch: Int, channels: Int, x: UnsafePointer<Float>,
                         w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        let kk = g.kernelH * g.kernelW
        if let dx {
            // The input gradient is itself a depthwise convolution of dy with the flipped kernel.
            var flipped = [Float](repeating: 0, count: channels * kk)
            for c in 0..<channels {
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        flipped[c * kk + i * g.kernelW + j] = w[c * kk + (g.kernelH - 1 - i) * g.kernelW + (g.kernelW - 1 - j)]
                    }
                }
            }
            let back = ConvGeometry(channels: 1, height: g.outH, width: g.outW, kernelH: g.kernelH, kernelW: g.kernelW,
                                    stride: 1, padding: g.kernelH - 1 - g.padding, outH: g.height, outW: g.width)
            flipped.withUnsafeBufferPointer { fp in
                forward(back, batch: batch, channels: channels, x: dy, w: fp.baseAddress!, bias: nil, y: dx)
            }
        }
        if let dw {
            let pad = Padded(g)
            let dyWidth = pad.vectors * 16
            Parallel.forRanges(channels, grain: 1) { range in
                let scratch = allocateFloats(pad.count), dyPadded = allocateFloats(g.outH * dyWidth)
                defer { scratch.deallocate(); dyPadded.deallocate() }
                dyPadded.update(repeating: 0, count: g.outH * dyWidth)
                let rx = UnsafeRawPointer(scratch), rdy = UnsafeRawPointer(dyPadded)
                for c in range {
                    var sums = [Float](repeating: 0, count: kk)
                    for b in 0..<batch {
                        let plane = (b * channels + c)
                        pad.fill(scratch, from: x + plane * g.inPlane, g)
                        for oh in 0..<g.outH {
                            (dyPadded + oh * dyWidth).update(from: dy + plane * g.outPlane + oh * g.outW, count: g.outW)
                        }
                        for i in 0..<g.kernelH {
                            for j in 0..<g.kernelW {
                                var acc = SIMD16<Float>()
                                for oh in 0..<g.outH {
                                    for v in 0..<pad.vectors {
                                        acc.addProduct(
                                            rdy.load(fromByteOffset: (oh * dyWidth + v * 16) * 4, as: SIMD16<Float>.self),
                                            rx.loadUnaligned(fromByteOffset: ((oh + i) * pad.rowWidth + v * 16 + j) * 4,
                                                             as: SIMD16<Float>.self))
                                    }
                                }
                                sums[i * g.kernelW + j] += acc.sum()
                            }
                        }
                    }
                    for e in 0..<kk { dw[c * kk + e] = sums[e] }
                }
            }
        }
    }
}
