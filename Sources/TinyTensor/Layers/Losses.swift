import Foundation

// MARK: - Regression losses (mean reduction, as PyTorch's defaults)
//
// Each loss compares a prediction ŷ with a target y of the same shape and averages over
// all N elements. Each is one fused op (one pass forward, one pass backward), because the
// loss runs once per training step and the chapters take tens of thousands of steps.

/// Which regression loss to use, e.g. from a command-line flag.
public enum RegressionLoss: String, CaseIterable {
    case mse, l1, huber

    /// The loss of `prediction` against `target` (mean over all elements).
    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        switch self {
        case .mse: return mseLoss(prediction, target)
        case .l1: return l1Loss(prediction, target)
        case .huber: return huberLoss(prediction, target)
        }
    }
}

/// Mean squared error, `torch.nn.functional.mse_loss`:
/// L = (1/N) Σ (ŷᵢ − yᵢ)², ∂L/∂ŷᵢ = 2(ŷᵢ − yᵢ)/N.
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    elementwiseLoss(prediction, target, op: "mse_loss",
                    value: { d in d * d }, derivative: { d in 2 * d })
}

/// Mean absolute error, `torch.nn.functional.l1_loss`:
/// L = (1/N) Σ |ŷᵢ − yᵢ|, ∂L/∂ŷᵢ = sign(ŷᵢ − yᵢ)/N (0 at the kink, as PyTorch).
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    elementwiseLoss(prediction, target, op: "l1_loss",
                    value: { d in Swift.abs(d) }, derivative: { d in d > 0 ? 1 : (d < 0 ? -1 : 0) })
}

/// Huber loss (smooth L1), `torch.nn.functional.smooth_l1_loss` with `beta` (default 1,
/// where it equals `huber_loss` with δ = 1): with d = ŷ − y,
///
///     ℓ(d) = 0.5 d² / β      if |d| < β
///            |d| − 0.5 β     otherwise
///
/// L = (1/N) Σ ℓ(dᵢ); ∂ℓ/∂d = d/β inside, sign(d) outside. Quadratic near zero like MSE,
/// linear for outliers like L1 (the Annotated Diffusion's choice).
public func huberLoss(_ prediction: Tensor, _ target: Tensor, beta: Float = 1) -> Tensor {
    precondition(beta > 0, "huberLoss: beta must be positive, got \(beta)")
    return elementwiseLoss(prediction, target, op: "huber_loss",
                           value: { d in Swift.abs(d) < beta ? 0.5 * d * d / beta : Swift.abs(d) - 0.5 * beta },
                           derivative: { d in Swift.abs(d) < beta ? d / beta : (d > 0 ? 1 : -1) })
}

/// L = (1/N) Σ value(ŷᵢ − yᵢ); ∂L/∂ŷᵢ = derivative(dᵢ)/N and ∂L/∂yᵢ = −∂L/∂ŷᵢ.
/// The sum is taken in Double so the loss of a big batch does not lose digits.
func elementwiseLoss(_ prediction: Tensor, _ target: Tensor, op: String,
                     value: (Float) -> Float, derivative: @escaping (Float) -> Float) -> Tensor {
    precondition(prediction.shape == target.shape,
                 "\(op): prediction \(prediction.shape) and target \(target.shape) differ in shape")
    let n = prediction.count
    var diff = [Float](repeating: 0, count: n)
    var total: Double = 0
    prediction.data.withUnsafeBufferPointer { p in target.data.withUnsafeBufferPointer { y in
        diff.withUnsafeMutableBufferPointer { d in
            for i in 0..<n {
                d[i] = p[i] - y[i]
                total += Double(value(d[i]))
            }
        }
    } }
    let loss = Float(total / Double(Swift.max(n, 1)))
    let needTarget = target.requiresGrad
    return Tensor.record([loss], shape: [], inputs: [prediction, target], op: op) { g in
        let scale = g[0] / Float(Swift.max(n, 1))
        var gp = [Float](repeating: 0, count: n)
        for i in 0..<n { gp[i] = scale * derivative(diff[i]) }
        return [gp, needTarget ? gp.map { -$0 } : nil]
    }
}
