/// A direct kernel for depthwise convolutions (groups = channels, one kH × kW filter per
/// channel, stride 1), such as ConvNeXt's 7 × 7: im2col would copy each pixel 49 times to
/// feed a product with only one output row per group, so here the window slides directly.
///
///     y[b, c, oh, ow] = b_c + Σ_{i, j} w[c, i, j] · x̃[b, c, oh + i, ow + j]
///
/// where x̃ is the plane zero-padded by p. Output rows are computed 16 pixels at a time in one
/// SIMD register each, four rows together (`Plane.rows`): kH·kW fused multiply-adds of shifted
/// rows of x̃. To let every load and every lane be whole, x̃ is copied into a scratch plane
/// whose rows are wide enough for ⌈Wo / 16⌉ · 16 outputs; the extra lanes are computed and
/// thrown away. (Eight rows at a time with AVX-512 measured no faster: the unaligned loads of
/// x̃, one per multiply-add, are the limit, not the chains.)
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
            for job in jobs {
                let c = job % channels
                pad.fill(scratch, from: x + job * g.inPlane, g)
                let plane = Plane(g: g, pad: pad, x: UnsafeRawPointer(scratch), w: w + c * kk, bias: bias?[c] ?? 0,
                                  y: y + job * g.outPlane)
                var oh = 0
                while oh + 4 <= g.outH { plane.rows(Rows4.self, from: oh); oh += 4 }
                if oh + 2 <= g.outH { plane.rows(Rows2.self, from: oh); oh += 2 }
                if oh < g.outH { plane.rows(Rows1.self, from: oh) }
            }
        }
    }

    /// One padded plane x̃ of one (sample, channel), its filter and its output plane.
    struct Plane {
        let g: ConvGeometry, pad: Padded
        let x: UnsafeRawPointer, w: UnsafePointer<Float>, bias: Float
        let y: UnsafeMutablePointer<Float>

        /// Output rows oh ..< oh + H.rows, 16 pixels at a time.
        ///
        /// Each pixel's sum is b + Σ_i Σ_j w[i, j]·x̃[oh + i, ow + j], in the order of the taps
        /// (i, then j), one fused multiply-add each. A single accumulator would wait for its
        /// previous FMA at every tap (49 in a row at 7 × 7, four cycles each); the H rows' sums
        /// are independent chains that overlap, and share each tap's broadcast weight.
        @inline(__always)
        func rows<H: TileHeight>(_: H.Type, from oh: Int) {
            for v in 0..<pad.vectors {
                let b0 = SIMD16<Float>(repeating: bias)
                var a0 = b0, a1 = b0, a2 = b0, a3 = b0
                for i in 0..<g.kernelH {
                    let row = ((oh + i) * pad.rowWidth + v * 16) * 4       // byte offset of x̃[oh + i, 16v]
                    let rowBytes = pad.rowWidth * 4
                    for j in 0..<g.kernelW {
                        let wij = SIMD16<Float>(repeating: w[i * g.kernelW + j])
                        let at = row + j * 4
                        a0.addProduct(x.loadUnaligned(fromByteOffset: at, as: SIMD16<Float>.self), wij)
                        if H.rows > 1 {
                            a1.addProduct(x.loadUnaligned(fromByteOffset: at + rowBytes, as: SIMD16<Float>.self), wij)
                        }
                        if H.rows > 2 {
                            a2.addProduct(x.loadUnaligned(fromByteOffset: at + 2 * rowBytes, as: SIMD16<Float>.self),
                                          wij)
                            a3.addProduct(x.loadUnaligned(fromByteOffset: at + 3 * rowBytes, as: SIMD16<Float>.self),
                                          wij)
                        }
                    }
                }
                let lanes = min(16, g.outW - v * 16)
                @inline(__always) func put(_ acc: SIMD16<Float>, _ r: Int) {
                    let dst = y + (oh + r) * g.outW + v * 16
                    for l in 0..<lanes { dst[l] = acc[l] }
                }
                put(a0, 0)
                if H.rows > 1 { put(a1, 1) }
                if H.rows > 2 { put(a2, 2); put(a3, 3) }
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
                        let taps = Taps(g: g, pad: pad, dy: rdy, dyWidth: dyWidth, x: rx)
                        sums.withUnsafeMutableBufferPointer { sums in
                            for i in 0..<g.kernelH {
                                let row = sums.baseAddress! + i * g.kernelW
                                var j = 0
                                while j + 4 <= g.kernelW { taps.add(Rows4.self, i: i, j: j, into: row); j += 4 }
                                if j + 2 <= g.kernelW { taps.add(Rows2.self, i: i, j: j, into: row); j += 2 }
                                if j < g.kernelW { taps.add(Rows1.self, i: i, j: j, into: row) }
                            }
                        }
                    }
                    for e in 0..<kk { dw[c * kk + e] = sums[e] }
                }
            }
        }
    }

    /// One sample's share of the weight gradient of one channel: dy and x̃ as padded planes.
    struct Taps {
        let g: ConvGeometry, pad: Padded
        let dy: UnsafeRawPointer, dyWidth: Int, x: UnsafeRawPointer

        /// sums[j + t] += Σ_{oh, ow} dy[oh, ow]·x̃[oh + i, ow + j + t] for the H.rows taps t.
        ///
        /// Each tap's sum runs over (oh, then 16 pixels at a time) with one accumulator of 16
        /// lanes, added up at the end. The taps of a row share each load of dy, and their
        /// accumulators are independent chains: with one tap at a time, every fused multiply-add
        /// waited for the previous one.
        @inline(__always)
        func add<H: TileHeight>(_: H.Type, i: Int, j: Int, into sums: UnsafeMutablePointer<Float>) {
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            for oh in 0..<g.outH {
                for v in 0..<pad.vectors {
                    let d = dy.load(fromByteOffset: (oh * dyWidth + v * 16) * 4, as: SIMD16<Float>.self)
                    let at = ((oh + i) * pad.rowWidth + v * 16 + j) * 4          // byte offset of x̃[oh + i, 16v + j]
                    a0.addProduct(d, x.loadUnaligned(fromByteOffset: at, as: SIMD16<Float>.self))
                    if H.rows > 1 { a1.addProduct(d, x.loadUnaligned(fromByteOffset: at + 4, as: SIMD16<Float>.self)) }
                    if H.rows > 2 {
                        a2.addProduct(d, x.loadUnaligned(fromByteOffset: at + 8, as: SIMD16<Float>.self))
                        a3.addProduct(d, x.loadUnaligned(fromByteOffset: at + 12, as: SIMD16<Float>.self))
                    }
                }
            }
            sums[j] += a0.sum()
            if H.rows > 1 { sums[j + 1] += a1.sum() }
            if H.rows > 2 { sums[j + 2] += a2.sum(); sums[j + 3] += a3.sum() }
        }
    }
}
