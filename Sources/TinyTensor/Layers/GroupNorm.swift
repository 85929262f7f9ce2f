/// Group normalisation with a per-channel affine, like `torch.nn.GroupNorm`
/// (see `Tensor.groupNorm` for the formula). γ (`weight`) starts at ones, β (`bias`) at zeros.
public final class GroupNorm: Module, Layer {
    public let weight: Tensor      // [channels]  γ
    public let bias: Tensor        // [channels]  β
    public let groups: Int
    public let eps: Float

    public init(groups: Int, channels: Int, eps: Float = 1e-5) {
        precondition(groups >= 1 && channels % groups == 0,
                     "GroupNorm: \(channels) channels do not split into \(groups) groups")
        self.groups = groups
        self.eps = eps
        weight = Tensor.ones([channels]).requiringGrad()
        bias = Tensor.zeros([channels]).requiringGrad()
    }

    /// x: [B, channels, ...] → same shape
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps)
    }
}
