import Foundation

// MARK: - Regression losses (mean reduction, as PyTorch's defaults)
//
// Each loss compares a prediction ŷ with a target y of the same shape and averages over
// all N elements. Each is one fused op (one pass forward, one pass backward), because the
// loss runs once per training step and the chapters take tens of thousands of steps.

/// Which regression loss to use, e.g. from a command-line flag.
public enum RegressionLoss: String, CaseIterable, Codable, Sendable {
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

// MARK: - Classification loss

/// Cross-entropy of class scores against integer labels, `torch.nn.functional.cross_entropy`
/// (mean reduction): for logits z [N, K] and labels yₙ ∈ 0..<K,
///
///     L = −(1/N) Σₙ log softmax(zₙ)_{yₙ} = (1/N) Σₙ (log Σₖ exp zₙₖ − zₙ,yₙ)
///
/// ∂L/∂zₙₖ = (softmax(zₙ)ₖ − [k = yₙ]) / N. One fused op: the log-sum-exp subtracts the row
/// maximum first, so large logits do not overflow; the sum over rows is taken in Double.
public func crossEntropy(_ logits: Tensor, _ labels: [Int]) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, classes], got \(logits.shape)")
    let (n, k) = (logits.shape[0], logits.shape[1])
    precondition(labels.count == n, "crossEntropy: \(labels.count) labels for \(n) rows of logits")
    precondition(labels.allSatisfy { $0 >= 0 && $0 < k }, "crossEntropy: labels must lie in 0..<\(k)")
    var probabilities = [Float](repeating: 0, count: n * k)             // [N, K] softmax(z)
    var total: Double = 0
    logits.data.withUnsafeBufferPointer { z in
        for row in 0..<n {
            let base = row * k
            var m = -Float.infinity
            for j in 0..<k { m = Swift.max(m, z[base + j]) }
            var s: Float = 0
            for j in 0..<k { let e = Foundation.exp(z[base + j] - m); probabilities[base + j] = e; s += e }
            for j in 0..<k { probabilities[base + j] /= s }
            total += Double(m + Foundation.log(s) - z[base + labels[row]])
        }
    }
    let loss = Float(total / Double(Swift.max(n, 1)))
    return Tensor.record([loss], shape: [], inputs: [logits], op: "cross_entropy") { g in
        let scale = g[0] / Float(Swift.max(n, 1))
        var dz = probabilities
        for row in 0..<n { dz[row * k + labels[row]] -= 1 }
        for i in dz.indices { dz[i] *= scale }
        return [dz]
    }
}
