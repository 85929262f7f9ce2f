/// Fused GroupNorm forward and backward over x [B, C, plane] with G groups of C/G channels.
///
/// Forward, per (sample b, group g) over its n = (C/G)·plane values:
///
///     μ = Σ x / n,   σ² = Σ (x − μ)² / n,   r = 1 / √(σ² + ε)
///     y[c, q] = γ_c · (x[c, q] − μ) · r + β_c  =  a_c · x[c, q] + (β_c − a_c·μ),   a_c = γ_c·r
///
/// Backward, with x̂ = (x − μ)·r and the standard closed form of the normalisation's Jacobian:
///
///     dx = r · (γ·dy − mean(γ·dy) − x̂ · mean(γ·dy · x̂))           (means over the group)
///     dγ_c = Σ_{b, q} dy · x̂,    dβ_c = Σ_{b, q} dy
///
/// Both reduce to two per-(b, c) sums, s1 = Σ_q dy and s2 = Σ_q dy·(x − μ), so one pass
/// computes them and a second writes dx = A_c·dy + B·(x − μ) + C. A job is one (b, g); dγ, dβ then add the
/// per-sample sums in batch order. Nothing depends on the thread count.
enum GroupNormKernel {
    static func forward(x: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, groups: Int, eps: Float,
                        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                        mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
        let cg = channels / groups, n = cg * plane
        Parallel.forRanges(batch * groups, grain: 1) { jobs in
            for job in jobs {
                let b = job / groups, gi = job % groups
                let base = (b * channels + gi * cg) * plane
                let mu = VectorKernels.sum(x + base, n) / Float(n)
                let variance = VectorKernels.sumSquaredDeviations(x + base, n, from: mu) / Float(n)
                let r = 1 / (variance + eps).squareRoot()
                mean[job] = mu; rstd[job] = r
                for k in 0..<cg {
                    let c = gi * cg + k
                    let a = (gamma?[c] ?? 1) * r
                    let shift = (beta?[c] ?? 0) - a * mu
                    VectorKernels.affine(x + base + k * plane, plane, scale: a, shift: shift, into: y + base + k * plane)
                }
            }
        }
    }

    static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int,
                         groups: Int, gamma: UnsafePointer<Float>?, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?,
                         dbeta: UnsafeMutablePointer<Float>?) {
        let cg = channels / groups, n = Float(cg * plane)
        let s1 = allocateFloats(batch * channels), s2 = allocateFloats(batch * channels)
        defer { s1.deallocate(); s2.deallocate() }
        Parallel.forRanges(batch * groups, grain: 1) { jobs in
            for job in jobs {
                let b = job / groups, gi = job % groups
                let mu = mean[job], r = rstd[job]
                // Σ γ·dy and Σ γ·dy·x̂ over the group, from the per-channel sums.
                var sumG: Float = 0, sumGX: Float = 0
                for k in 0..<cg {
                    let bc = b * channels + gi * cg + k, at = bc * plane
                    s1[bc] = VectorKernels.sum(dy + at, plane)
                    s2[bc] = VectorKernels.dot(dy + at, x + at, plane, centeredAt: mu)
                    let gc = gamma?[gi * cg + k] ?? 1
                    sumG += gc * s1[bc]
                    sumGX += gc * s2[bc] * r
                }
                guard let dx else { continue }
                let m1 = sumG / n, m2 = sumGX / n
                // dx = r·γ_c·dy − r·m1 − r·x̂·m2 = A_c·dy + B·(x − μ) + C
                let bx = -r * r * m2, cst = -r * m1
                for k in 0..<cg {
                    let at = (b * channels + gi * cg + k) * plane
                    let a = r * (gamma?[gi * cg + k] ?? 1)
                    let d = dx + at, g = dy + at, v = x + at
                    for q in 0..<plane { d[q] = a * g[q] + bx * (v[q] - mu) + cst }
                }
            }
        }
        // dγ_c = Σ_b r_b·s2,  dβ_c = Σ_b s1, in batch order.
        for c in 0..<channels {
            var gsum: Float = 0, bsum: Float = 0
            for b in 0..<batch {
                let job = b * groups + c / cg, bc = b * channels + c
                gsum += rstd[job] * s2[bc]
                bsum += s1[bc]
            }
            dgamma?[c] = gsum
            dbeta?[c] = bsum
        }
    }
}

// MARK: - Array front ends (what `Tensor.groupNorm` calls)

extension GroupNormKernel {
    /// `forward` on arrays: returns y [B, C, plane] and the per-(b, g) mean and 1/√(σ² + ε).
    static func forward(_ x: [Float], batch: Int, channels: Int, plane: Int, groups: Int, eps: Float,
                        gamma: [Float]?, beta: [Float]?) -> (y: [Float], mean: [Float], rstd: [Float]) {
        var y = uninitializedFloats(x.count)            // every element written by `forward`
        var mean = [Float](repeating: 0, count: batch * groups), rstd = mean
        x.withUnsafeBufferPointer { x in
        withOptionalPointer(gamma) { gamma in
        withOptionalPointer(beta) { beta in
        y.withUnsafeMutableBufferPointer { y in
        mean.withUnsafeMutableBufferPointer { mean in
        rstd.withUnsafeMutableBufferPointer { rstd in
            forward(x: x.baseAddress!, batch: batch, channels: channels, plane: plane, groups: groups, eps: eps,
                    gamma: gamma, beta: beta, y: y.baseAddress!, mean: mean.baseAddress!, rstd: rstd.baseAddress!)
        }}}}}}
        return (y, mean, rstd)
    }

    /// `backward` on arrays: the gradients asked for (nil for the others).
    static func backward(_ x: [Float], dy: [Float], batch: Int, channels: Int, plane: Int, groups: Int,
                         gamma: [Float]?, mean: [Float], rstd: [Float], wantX: Bool, wantGamma: Bool, wantBeta: Bool)
        -> (dx: [Float]?, dgamma: [Float]?, dbeta: [Float]?) {
        var dx: [Float]? = wantX ? uninitializedFloats(x.count) : nil     // every element written by `backward`
        var dgamma: [Float]? = wantGamma ? [Float](repeating: 0, count: channels) : nil
        var dbeta: [Float]? = wantBeta ? [Float](repeating: 0, count: channels) : nil
        x.withUnsafeBufferPointer { x in
        dy.withUnsafeBufferPointer { dy in
        withOptionalPointer(gamma) { gamma in
        mean.withUnsafeBufferPointer { mean in
        rstd.withUnsafeBufferPointer { rstd in
        withOptionalMutablePointer(&dx) { dx in
        withOptionalMutablePointer(&dgamma) { dgamma in
        withOptionalMutablePointer(&dbeta) { dbeta in
            backward(x: x.baseAddress!, dy: dy.baseAddress!, batch: batch, channels: channels, plane: plane,
                     groups: groups, gamma: gamma, mean: mean.baseAddress!, rstd: rstd.baseAddress!,
                     dx: dx, dgamma: dgamma, dbeta: dbeta)
        }}}}}}}}
        return (dx, dgamma, dbeta)
    }
}
