// MARK: - Convolutions

extension Tensor {
    /// 2-D cross-correlation, PyTorch's `F.conv2d` (zero padding, NCHW):
    ///
    ///     y[b, o, oh, ow] = bias[o] + Σ_{c ∈ group(o), i, j} w[o, c, i, j] · x[b, c, oh·s − p + i, ow·s − p + j]
    ///
    /// - x: [B, C, H, W]; weight: [O, C/groups, kH, kW]; bias: [O]
    /// - returns [B, O, Ho, Wo] with Ho = ⌊(H + 2p − kH) / s⌋ + 1 (likewise Wo).
    /// - groups: the C input and O output channels are cut into `groups` blocks, output block g
    ///   seeing only input block g; groups = C is a depthwise convolution (one filter per channel).
    ///
    /// Backward (per group): dx = col2im(Wᵀ · dy), dW = dy · colsᵀ, db = Σ_{b, oh, ow} dy,
    /// where cols = im2col(x) (Kernels/Im2Col.swift; computed without writing cols out, see
    /// Kernels/ConvGEMM.swift). Depthwise stride-1 convolutions use a direct kernel instead
    /// (Kernels/DepthwiseConv.swift). `referenceConv2d` (Ops/Reference.swift) is the same sum
    /// in plain loops; the tests hold the two together.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1,
                              padding: Int = 0, groups: Int = 1) -> Tensor {
        precondition(x.rank == 4, "conv2d: input must be [B, C, H, W], got \(x.shape)")
        precondition(weight.rank == 4, "conv2d: weight must be [O, C/groups, kH, kW], got \(weight.shape)")
        let (batch, inC, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outC, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        precondition(groups >= 1 && inC % groups == 0 && outC % groups == 0,
                     "conv2d: \(inC) input and \(outC) output channels do not split into \(groups) groups")
        precondition(weight.shape[1] == inC / groups,
                     "conv2d: weight \(weight.shape) expects \(weight.shape[1] * groups) input channels, input \(x.shape) has \(inC)")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride must be ≥ 1 and padding ≥ 0 (got \(stride), \(padding))")
        precondition(h + 2 * padding >= kh && w + 2 * padding >= kw,
                     "conv2d: kernel \(kh)×\(kw) is larger than the padded input \(h + 2 * padding)×\(w + 2 * padding)")
        if let bias { precondition(bias.shape == [outC], "conv2d: bias must be [\(outC)], got \(bias.shape)") }

        let geometry = ConvGeometry(channels: inC / groups, height: h, width: w, kernelH: kh, kernelW: kw,
                                    stride: stride, padding: padding)
        let shape = Conv2DShape(batch: batch, inChannels: inC, outChannels: outC, groups: groups, geometry: geometry)
        let depthwise = DepthwiseConv.applies(inChannels: inC, outChannels: outC, groups: groups, g: geometry)
        let outShape = [batch, outC, geometry.outH, geometry.outW]      // [B, O, Ho, Wo]
        // The GEMM kernels write every element (no need to zero-fill first).
        var out = depthwise ? [Float](repeating: 0, count: outShape.product) : uninitializedFloats(outShape.product)
        x.data.withUnsafeBufferPointer { xp in weight.data.withUnsafeBufferPointer { wp in
            withOptionalPointer(bias?.data) { bp in out.withUnsafeMutableBufferPointer { yp in
                if depthwise {
                    DepthwiseConv.forward(geometry, batch: batch, channels: inC, x: xp.baseAddress!,
                                          w: wp.baseAddress!, bias: bp, y: yp.baseAddress!)
                } else {
                    ConvGEMM.forward(shape, x: xp.baseAddress!, w: wp.baseAddress!, bias: bp, y: yp.baseAddress!)
                }
            } }
        } }

        let (xd, wd) = (x.data, weight.data)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let (needX, needW) = (x.requiresGrad, weight.requiresGrad)
        return record(out, shape: outShape, inputs: inputs, op: "conv2d") { g in
            func gradient(_ count: Int) -> [Float] {
                depthwise ? [Float](repeating: 0, count: count) : uninitializedFloats(count)
            }
            var gx: [Float]? = needX ? gradient(xd.count) : nil
            var gw: [Float]? = needW ? gradient(wd.count) : nil
            xd.withUnsafeBufferPointer { xp in wd.withUnsafeBufferPointer { wp in g.withUnsafeBufferPointer { gp in
                withOptionalMutablePointer(&gx) { dx in withOptionalMutablePointer(&gw) { dw in
                    if depthwise {
                        DepthwiseConv.backward(geometry, batch: batch, channels: inC, x: xp.baseAddress!,
                                               w: wp.baseAddress!, dy: gp.baseAddress!, dx: dx, dw: dw)
                    } else {
                        ConvGEMM.backward(shape, x: xp.baseAddress!, w: wp.baseAddress!, dy: gp.baseAddress!,
                                          dx: dx, dw: dw)
                    }
                } }
            } } }
            var grads: [[Float]?] = [gx, gw]
            if inputs.count == 3 { grads.append(biasGradient(g, batch: batch, channels: outC)) }
            return grads
        }
    }

    /// 2-D transposed convolution, PyTorch's `F.conv_transpose2d` (groups 1): the adjoint of
    /// `conv2d` with the same stride and padding, used to upsample.
    ///
    ///     y[b, o, ih·s − p + i, iw·s − p + j] += Σ_c x[b, c, ih, iw] · w[c, o, i, j]   (+ bias[o])
    ///
    /// - x: [B, C, H, W]; weight: [C, O, kH, kW] (PyTorch layout); bias: [O]
    /// - returns [B, O, Ho, Wo] with Ho = (H − 1)·s − 2p + kH + outputPadding (likewise Wo).
    ///
    /// Backward: dx = W · im2col(dy) (a convolution of dy), dW = Σ x · im2col(dy)ᵀ, db = Σ dy.
    public static func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1,
                                       padding: Int = 0, outputPadding: Int = 0) -> Tensor {
        precondition(x.rank == 4, "convTranspose2d: input must be [B, C, H, W], got \(x.shape)")
        precondition(weight.rank == 4 && weight.shape[0] == x.shape[1],
                     "convTranspose2d: weight must be [C=\(x.shape[1]), O, kH, kW], got \(weight.shape)")
        precondition(stride >= 1 && padding >= 0 && outputPadding >= 0 && outputPadding < stride,
                     "convTranspose2d: need stride ≥ 1, padding ≥ 0, 0 ≤ outputPadding < stride (got \(stride), \(padding), \(outputPadding))")
        let (batch, inC, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outC, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
        let outH = (h - 1) * stride - 2 * padding + kh + outputPadding
        let outW = (w - 1) * stride - 2 * padding + kw + outputPadding
        precondition(outH > 0 && outW > 0, "convTranspose2d: output would be \(outH)×\(outW); reduce the padding")
        if let bias { precondition(bias.shape == [outC], "convTranspose2d: bias must be [\(outC)], got \(bias.shape)") }

        // The geometry of the convolution [O, Ho, Wo] → [C, H, W] whose adjoint this is.
        let geometry = ConvGeometry(channels: outC, height: outH, width: outW, kernelH: kh, kernelW: kw,
                                    stride: stride, padding: padding, outH: h, outW: w)
        let outShape = [batch, outC, outH, outW]                          // [B, O, Ho, Wo]
        var out = uninitializedFloats(outShape.product)                 // filled with the bias first
        x.data.withUnsafeBufferPointer { xp in weight.data.withUnsafeBufferPointer { wp in
            withOptionalPointer(bias?.data) { bp in out.withUnsafeMutableBufferPointer { yp in
                ConvTransposeGEMM.forward(geometry, batch: batch, inChannels: inC, x: xp.baseAddress!,
                                          w: wp.baseAddress!, bias: bp, y: yp.baseAddress!)
            } }
        } }

        let (xd, wd) = (x.data, weight.data)
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        let (needX, needW) = (x.requiresGrad, weight.requiresGrad)
        return record(out, shape: outShape, inputs: inputs, op: "convTranspose2d") { g in
            var gx: [Float]? = needX ? uninitializedFloats(xd.count) : nil     // both overwritten
            var gw: [Float]? = needW ? uninitializedFloats(wd.count) : nil
            xd.withUnsafeBufferPointer { xp in wd.withUnsafeBufferPointer { wp in g.withUnsafeBufferPointer { gp in
                withOptionalMutablePointer(&gx) { dx in withOptionalMutablePointer(&gw) { dw in
                    ConvTransposeGEMM.backward(geometry, batch: batch, inChannels: inC, x: xp.baseAddress!,
                                               w: wp.baseAddress!, dy: gp.baseAddress!, dx: dx, dw: dw)
                } }
            } } }
            var grads: [[Float]?] = [gx, gw]
            if inputs.count == 3 { grads.append(biasGradient(g, batch: batch, channels: outC)) }
            return grads
        }
    }

    /// db[c] = Σ_{b, q} dy[b, c, q] for a gradient laid out [B, C, ...].
    static func biasGradient(_ g: [Float], batch: Int, channels: Int) -> [Float] {
        var db = [Float](repeating: 0, count: channels)
        g.withUnsafeBufferPointer { gp in db.withUnsafeMutableBufferPointer { dp in
            ConvGEMM.biasGradient(gp.baseAddress!, batch: batch, channels: channels,
                                  plane: g.count / Swift.max(1, batch * channels), into: dp.baseAddress!)
        } }
        return db
    }
}
