import TinyTensor

/// The ConvNeXt block (Liu et al. 2022, "A ConvNet for the 2020s") as the MindSpore port of the
/// Annotated Diffusion Model (and the blog's first version) uses it instead of `ResnetBlock`,
/// and as the TwoResUNet article (seeds/002) writes it:
///
///     h = DepthwiseConv7×7(x) + Linear(GELU(t))[:, :, None, None]       the time embedding is added
///     h = Conv3×3(GroupNorm(1, mult·dimOut)(GELU(Conv3×3(GroupNorm(1, dim)(h)))))
///     y = h + resConv(x)                                                  1×1 conv, or identity
///
/// The depthwise 7×7 conv (groups = dim) mixes space, the 3×3 convs mix channels through a
/// `mult`-times wider hidden layer. GroupNorm with one group normalises over (C, H, W).
///
/// The three sources write the same block three ways, selected by the options:
/// - the Annotated ConvNeXt variant (`Unet(block: .convNext)`): the defaults;
/// - the MindSpore port as MindSpore runs it: `bias: false` (its `nn.Conv2d` has
///   `has_bias=False` unless told otherwise; the `Linear` keeps its bias) and `gelu: .geluTanh`
///   (its `nn.GELU()` is the tanh approximation);
/// - TwoResUNet: the defaults with `naming: .twoResUNet`, the article's attribute names.
///
/// PyTorch names (`.annotated`): `mlp.1.weight`, `ds_conv.weight`, `net.0.weight` (GroupNorm),
/// `net.1.weight` (conv), `net.3.weight` (GroupNorm), `net.4.weight` (conv), `res_conv.weight`;
/// `.twoResUNet`: `mlp.1.weight`, `in_conv.weight`, `block.0.weight`, ..., `residual_conv.weight`.
public final class ConvNextBlock: Module, TimeConditionedBlock {
    /// Whose attribute names the state dict uses.
    public enum Naming: Sendable { case annotated, twoResUNet }

    public let mlp: Sequential?          // GELU, Linear(timeEmbDim, dim)
    public let dsConv: Conv2d            // depthwise 7×7
    public let net: Sequential           // [GroupNorm(1, dim) | Identity], Conv3×3, GELU, GroupNorm, Conv3×3
    public let resConv: Conv2d?          // nil: the identity
    public let naming: Naming

    public init(_ dim: Int, _ dimOut: Int, timeEmbDim: Int?, mult: Int = 2, norm: Bool = true,
                bias: Bool = true, gelu: Activation.Kind = .gelu, naming: Naming = .annotated,
                rng: inout RandomGenerator) {
        if let timeEmbDim {
            let activation = Activation(gelu), linear = Linear(timeEmbDim, dim, rng: &rng)
            mlp = Sequential(activation, linear)
        } else {
            mlp = nil
        }
        dsConv = Conv2d(dim, dim, kernelSize: 7, padding: 3, groups: dim, bias: bias, rng: &rng)
        let hidden = dimOut * mult
        let norm0: any UNetLayer = norm ? GroupNorm(groups: 1, channels: dim, eps: 1e-5) : IdentityLayer()
        let conv1 = Conv2d(dim, hidden, kernelSize: 3, padding: 1, bias: bias, rng: &rng)
        let activation = Activation(gelu)
        let norm1 = GroupNorm(groups: 1, channels: hidden, eps: 1e-5)
        let conv2 = Conv2d(hidden, dimOut, kernelSize: 3, padding: 1, bias: bias, rng: &rng)
        net = Sequential(norm0, conv1, activation, norm1, conv2)
        resConv = dim != dimOut ? Conv2d(dim, dimOut, kernelSize: 1, bias: bias, rng: &rng) : nil
        self.naming = naming
    }

    public override func parameterName(for property: String) -> String {
        if naming == .twoResUNet, let name = ["dsConv": "in_conv", "net": "block", "resConv": "residual_conv"][property] {
            return name
        }
        return super.parameterName(for: property)
    }

    /// x: `[B, dim, H, W]`, timeEmbedding: `[B, timeEmbDim]` → `[B, dimOut, H, W]`.
    public func callAsFunction(_ x: Tensor, _ timeEmbedding: Tensor?) -> Tensor {
        var h = dsConv(x)                                                 // [B, dim, H, W]
        if let mlp, let timeEmbedding {
            let condition = mlp(timeEmbedding)                            // [B, dim]
            h = h + condition.reshape([condition.shape[0], condition.shape[1], 1, 1])  // [B, dim, H, W]
        }
        h = net(h)                                                        // [B, dimOut, H, W]
        return h + (resConv.map { $0(x) } ?? x)                           // [B, dimOut, H, W]
    }
}

/// `nn.Identity`: no parameters, returns its input.
public final class IdentityLayer: Module, UNetLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { x }
}
