import TinyTensor

/// A 2-D convolution whose kernel is standardised on every call (Qiao et al. 2019,
/// "Micro-Batch Training with Batch-Channel Normalization and Weight Standardization",
/// arXiv:1903.10520), per output channel o:
///
///     Ŵ_o = (W_o − mean(W_o)) · rsqrt(var(W_o) + ε),   var biased (÷ n), ε = 1e-5 for float32
///
/// then y = conv2d(x, Ŵ) + b. It pairs well with GroupNorm. The Annotated Diffusion blog
/// divided by rsqrt (i.e. multiplied by the standard deviation); that bug, fixed upstream in
/// huggingface/blog PR #1526, is not ported. The gradient flows through the standardisation.
///
/// Parameters as `nn.Conv2d`: `weight` `[out, in, k, k]`, `bias` `[out]`.
public final class WeightStandardizedConv2d: Module, UNetLayer {
    public let weight: Tensor      // [out, in, k, k]
    public let bias: Tensor?       // [out]
    public let padding: Int
    public let eps: Float

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, padding: Int = 0,
                bias: Bool = true, eps: Float = 1e-5, rng: inout RandomGenerator) {
        // PyTorch's default conv initialisation: U(−1/√fanIn, 1/√fanIn) for weight and bias.
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        weight = Tensor.rand([outChannels, inChannels, kernelSize, kernelSize], low: -bound, high: bound,
                             using: &rng).requiringGrad()
        self.bias = bias ? Tensor.rand([outChannels], low: -bound, high: bound, using: &rng).requiringGrad() : nil
        self.padding = padding
        self.eps = eps
    }

    /// Ŵ as computed by the last call under `noGrad`, and the `weight.version` it came from.
    /// Sampling runs the network hundreds of times with the same weights; the standardisation
    /// (nine small reductions and products per conv) is then done once, not at every step.
    private var inferenceCache: (version: Int, standardized: Tensor)?

    /// Ŵ, the standardised kernel `[out, in, k, k]`.
    public func standardizedWeight() -> Tensor {
        if !GradMode.isEnabled, let cache = inferenceCache, cache.version == weight.version {
            return cache.standardized                                                    // the same bits as below
        }
        let mean = weight.mean(axes: [1, 2, 3], keepDims: true)                         // [out, 1, 1, 1]
        let variance = weight.variance(axes: [1, 2, 3], correction: 0, keepDims: true)  // [out, 1, 1, 1]
        let standardized = (weight - mean) * (variance + eps).rsqrt()                   // [out, in, k, k]
        inferenceCache = GradMode.isEnabled ? nil : (weight.version, standardized)      // training keeps the graph
        return standardized
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight: standardizedWeight(), bias: bias, stride: 1, padding: padding, groups: 1)  // [B, out, H', W']
    }
}
