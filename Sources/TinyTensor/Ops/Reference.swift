// MARK: - The definitions, one multiply-add at a time

extension Tensor {
    /// 2-D cross-correlation exactly as its definition reads (zero padding, NCHW, groups):
    ///
    ///     y[b, o, i, j] = bias[o] + Σ_{c, p, q} w[o, c, p, q] · x[b, g(o)·C/groups + c, i·s − pad + p, j·s − pad + q]
    ///
    /// where g(o) = o / (O/groups) is the group of output channel o and the sum runs over that
    /// group's C/groups input channels and the kH × kW window (positions outside x count as 0).
    ///
    /// This is what `Tensor.conv2d` computes. `conv2d` gets there through im2col and a blocked
    /// matrix product (Kernels/ConvGEMM.swift, Kernels/DepthwiseConv.swift), hundreds of times
    /// faster; the tests hold the two together. No autograd: for reading and testing.
    public static func referenceConv2d(_ x: Tensor, weight w: Tensor, bias: Tensor? = nil, stride: Int = 1,
                                       padding: Int = 0, groups: Int = 1) -> Tensor {
        precondition(x.rank == 4 && w.rank == 4, "referenceConv2d: expects x [B, C, H, W] and w [O, C/groups, kH, kW]")
        let (batch, channels, h, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (outC, perGroup, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        precondition(perGroup * groups == channels && outC % groups == 0, "referenceConv2d: channels do not match groups")
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (width + 2 * padding - kw) / stride + 1
        let outPerGroup = outC / groups
        var y = [Float](repeating: 0, count: batch * outC * oh * ow)           // [B, O, Ho, Wo]
        for b in 0..<batch {
            for o in 0..<outC {
                let firstInput = (o / outPerGroup) * perGroup                  // the group's first channel
                for i in 0..<oh {
                    for j in 0..<ow {
                        var sum = bias?.data[o] ?? 0
                        for c in 0..<perGroup {
                            for p in 0..<kh {
                                for q in 0..<kw {
                                    let row = i * stride - padding + p, col = j * stride - padding + q
                                    guard row >= 0, row < h, col >= 0, col < width else { continue }
                                    let xv = x.data[((b * channels + firstInput + c) * h + row) * width + col]
                                    sum += w.data[((o * perGroup + c) * kh + p) * kw + q] * xv
                                }
                            }
                        }
                        y[((b * outC + o) * oh + i) * ow + j] = sum
                    }
                }
            }
        }
        return Tensor(y, shape: [batch, outC, oh, ow])
    }

    /// The matrix product as its definition reads: C[i, j] = Σ_p A[i, p] · B[p, j], for
    /// A [M, K] and B [K, N]. `matmul` computes the same through the packed, blocked kernels of
    /// Kernels/GEMM.swift; the tests hold the two together. No autograd.
    public static func referenceMatmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                     "referenceMatmul: expects [M, K] · [K, N], got \(a.shape) · \(b.shape)")
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        var c = [Float](repeating: 0, count: m * n)                               // [M, N]
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k { sum += a.data[i * k + p] * b.data[p * n + j] }
                c[i * n + j] = sum
            }
        }
        return Tensor(c, shape: [m, n])
    }
}
