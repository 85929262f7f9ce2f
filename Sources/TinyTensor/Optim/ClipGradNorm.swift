import Foundation

/// Rescales the gradients of `parameters` so that their global L2 norm is at most `maxNorm`,
/// exactly as `torch.nn.utils.clip_grad_norm_` (norm type 2):
///
///     total = √(Σ_p ‖g_p‖²)                 (the norm of all gradients as one vector)
///     c = min(1, maxNorm / (total + 10⁻⁶))
///     g_p ← c · g_p
///
/// Returns `total`, the norm before clipping (worth logging: spikes show instability).
/// Parameters without a gradient are skipped.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradNorm: maxNorm must be positive, got \(maxNorm)")
    var sumOfSquares: Double = 0
    for p in parameters {
        guard let g = p.grad else { continue }
        var s: Float = 0
        g.data.withUnsafeBufferPointer { gp in for x in gp { s += x * x } }
        sumOfSquares += Double(s)
    }
    let total = Float(sumOfSquares.squareRoot())
    let coefficient = Swift.min(1, maxNorm / (total + 1e-6))
    if coefficient < 1 {
        for p in parameters {
            guard let g = p.grad else { continue }
            g.data.withUnsafeMutableBufferPointer { gp in for i in 0..<gp.count { gp[i] *= coefficient } }
        }
    }
    return total
}
