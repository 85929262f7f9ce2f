// MARK: - Group normalisation

extension Tensor {
    /// Group normalisation (Wu & He 2018, eq. 1–3), PyTorch's `F.group_norm`:
    ///
    ///     μ_{b,g} = mean of x[b, c, ...] over the channels c of group g and all pixels
    ///     σ²_{b,g} = the biased variance over the same values
    ///     y[b, c, ...] = γ_c · (x[b, c, ...] − μ_{b,g}) / √(σ²_{b,g} + ε) + β_c
    ///
    /// - x: [B, C, ...] (any number of spatial axes, or none); weight γ, bias β: [C] (ones and
    ///   zeros when nil); C must be divisible by `groups`. groups = 1 is LayerNorm over (C, H, W)
    ///   with a per-channel affine; groups = C is InstanceNorm.
    ///
    /// Backward (closed form, x̂ = (x − μ)/σ, means over the group):
    /// dx = (γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂)) / σ, dγ = Σ dy·x̂, dβ = Σ dy.
    public static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        precondition(x.rank >= 2, "groupNorm: input must be [B, C, ...], got \(x.shape)")
        let batch = x.shape[0], channels = x.shape[1]
        precondition(groups >= 1 && channels % groups == 0,
                     "groupNorm: \(channels) channels do not split into \(groups) groups")
        if let weight { precondition(weight.shape == [channels], "groupNorm: weight must be [\(channels)], got \(weight.shape)") }
        if let bias { precondition(bias.shape == [channels], "groupNorm: bias must be [\(channels)], got \(bias.shape)") }
        let plane = x.shape.dropFirst(2).product
        // Statistics per (sample, group), then the affine map: Kernels/GroupNormKernel.swift.
        let (out, mean, rstd) = GroupNormKernel.forward(x.data, batch: batch, channels: channels, plane: plane,
                                                        groups: groups, eps: eps, gamma: weight?.data, beta: bias?.data)
        var inputs = [x]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let xd = x.data, gammaData = weight?.data
        let (hasWeight, hasBias, needX) = (weight != nil, bias != nil, x.requiresGrad)
        return record(out, shape: x.shape, inputs: inputs, op: "groupNorm") { g in
            let (dx, dgamma, dbeta) = GroupNormKernel.backward(xd, dy: g, batch: batch, channels: channels, plane: plane,
                                                               groups: groups, gamma: gammaData, mean: mean, rstd: rstd,
                                                               wantX: needX, wantGamma: hasWeight, wantBeta: hasBias)
            var grads: [[Float]?] = [dx]
            if hasWeight { grads.append(dgamma) }
            if hasBias { grads.append(dbeta) }
            return grads
        }
    }
}
