import TinyTensor

extension Unet {
    /// One line of a model summary: a top-level step, the shape it outputs, its parameter count.
    public struct SummaryRow {
        public let path: String
        public let outputShape: [Int]
        public let parameters: Int
    }

    /// Runs one forward pass without gradients on zeros of `inputShape` and lists every
    /// top-level step (`init_conv`, `downs.0.0`, ..., `final_conv`) with its output shape and
    /// its number of parameters, like `torchinfo.summary(model, depth=2)`.
    public func summary(inputShape: [Int]) -> [SummaryRow] {
        let named = namedParameters()
        var rows: [SummaryRow] = []
        noGrad {
            let x = Tensor.zeros(inputShape)                                          // [B, C, H, W]
            let t = Tensor.zeros([inputShape[0]])                                     // [B]
            _ = forward(x, t, observe: { path, out in
                let count = named.filter { $0.name.hasPrefix(path + ".") }.reduce(0) { $0 + $1.tensor.count }
                rows.append(SummaryRow(path: path, outputShape: out.shape, parameters: count))
            })
        }
        return rows
    }
}
