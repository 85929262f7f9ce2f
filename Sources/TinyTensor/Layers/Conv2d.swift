/// A 2-D convolution layer, like `torch.nn.Conv2d` (zero padding): y = conv2d(x, W) + b.
///
/// Initialisation (PyTorch's default): `kaiming_uniform_(a=√5)` on W gives
/// W ~ U(−1/√fan_in, 1/√fan_in), and b ~ U(−1/√fan_in, 1/√fan_in), with
/// fan_in = (inChannels / groups) · kernelSize².
public final class Conv2d: Module, Layer {
    public let weight: Tensor      // [out, in/groups, k, k]
    public let bias: Tensor?       // [out]
    public let stride: Int, padding: Int, groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: \(inChannels) → \(outChannels) channels do not split into \(groups) groups")
        self.stride = stride; self.padding = padding; self.groups = groups
        let fanIn = inChannels / groups * kernelSize * kernelSize
        let limit = 1 / Float(fanIn).squareRoot()
        weight = Tensor.rand([outChannels, inChannels / groups, kernelSize, kernelSize],
                             low: -limit, high: limit, using: &rng).requiringGrad()
        self.bias = bias ? Tensor.rand([outChannels], low: -limit, high: limit, using: &rng).requiringGrad() : nil
    }

    /// x: [B, in, H, W] → [B, out, Ho, Wo]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, groups: groups)
    }
}

/// A 2-D transposed convolution layer, like `torch.nn.ConvTranspose2d` (groups 1).
///
/// The weight is stored [in, out, k, k] as in PyTorch, whose default initialisation then
/// computes fan_in from the *second* axis: fan_in = out · kernelSize², and
/// W, b ~ U(−1/√fan_in, 1/√fan_in).
public final class ConvTranspose2d: Module, Layer {
    public let weight: Tensor      // [in, out, k, k]
    public let bias: Tensor?       // [out]
    public let stride: Int, padding: Int, outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, bias: Bool = true, rng: inout RandomGenerator) {
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
        let fanIn = outChannels * kernelSize * kernelSize
        let limit = 1 / Float(fanIn).squareRoot()
        weight = Tensor.rand([inChannels, outChannels, kernelSize, kernelSize],
                             low: -limit, high: limit, using: &rng).requiringGrad()
        self.bias = bias ? Tensor.rand([outChannels], low: -limit, high: limit, using: &rng).requiringGrad() : nil
    }

    /// x: [B, in, H, W] → [B, out, (H−1)·s − 2p + k + outputPadding, ...]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding,
                               outputPadding: outputPadding)
    }
}
