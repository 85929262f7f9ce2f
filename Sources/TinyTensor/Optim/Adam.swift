import Foundation

/// Adam (Kingma & Ba 2015, Algorithm 1), exactly as `torch.optim.Adam` (amsgrad off).
///
/// For each parameter θ with gradient g, at step t = 1, 2, ...:
///
///     g ← g + λ·θ                          (only if weightDecay λ ≠ 0: L2 added to the gradient)
///     m ← β₁·m + (1 − β₁)·g                (first moment; PyTorch writes m.lerp_(g, 1 − β₁))
///     v ← β₂·v + (1 − β₂)·g²               (second moment)
///     m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ) (bias correction)
///     θ ← θ − lr · m̂ / (√v̂ + ε)
///
/// PyTorch evaluates the last line as θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε), with the
/// bias corrections in double precision; so do we, to match it step for step.
///
///     let opt = Adam(model.parameters(), lr: 1e-3)
///     opt.zeroGrad(); loss.backward(); opt.step()
public class Adam {
    /// The tensors updated in place (shared with the model).
    public let parameters: [Tensor]
    /// Learning rate; set it before `step()` to follow a schedule.
    public var lr: Float
    /// Moment decay rates, kept in double precision like PyTorch's Python floats.
    public let beta1: Double, beta2: Double
    public let eps: Float
    public let weightDecay: Float
    /// Steps taken so far (t in the formulas).
    public private(set) var stepCount = 0
    /// AdamW: decay the weights directly instead of adding λθ to the gradient.
    let decoupledWeightDecay: Bool
    // First and second moments, one buffer per parameter.
    var m: [[Float]]
    var v: [[Float]]

    public convenience init(_ parameters: [Tensor], lr: Float = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Float = 1e-8, weightDecay: Float = 0) {
        self.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: false)
    }

    init(_ parameters: [Tensor], lr: Float, betas: (Double, Double), eps: Float, weightDecay: Float, decoupled: Bool) {
        precondition(lr >= 0, "Adam: the learning rate must not be negative, got \(lr)")
        precondition((0..<1).contains(betas.0) && (0..<1).contains(betas.1), "Adam: betas must lie in [0, 1), got \(betas)")
        precondition(eps >= 0 && weightDecay >= 0, "Adam: eps and weightDecay must not be negative")
        self.parameters = parameters
        self.lr = lr
        (beta1, beta2) = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupled
        m = parameters.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    /// Clears every parameter's gradient (like `optimizer.zero_grad(set_to_none=True)`).
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// One update of every parameter that has a gradient, in place, without recording autograd.
    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        // Scalars computed in double, then rounded once, as PyTorch does with its Python floats.
        let stepSize = Float(Double(lr) / (1 - Foundation.pow(beta1, t)))            // lr / (1 − β₁ᵗ)
        let biasCorrection2Sqrt = Float((1 - Foundation.pow(beta2, t)).squareRoot())  // √(1 − β₂ᵗ)
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), eps = self.eps
        let decoupled = decoupledWeightDecay
        let decay = decoupled ? Float(1 - Double(lr) * Double(weightDecay)) : 1   // AdamW: θ ← θ(1 − lr·λ)
        let l2 = decoupled ? 0 : weightDecay                                     // Adam: g ← g + λθ
        let c = Coefficients(stepSize: stepSize, biasCorrection2Sqrt: biasCorrection2Sqrt, w1: w1, beta2: b2, w2: w2,
                             eps: eps, decay: decay, l2: l2)
        noGrad {
            for (i, p) in parameters.enumerated() {
                guard let grad = p.grad else { continue }
                precondition(grad.count == p.count, "Adam: gradient of \(grad.count) elements for a parameter of shape \(p.shape)")
                grad.data.withUnsafeBufferPointer { g in
                    p.data.withUnsafeMutableBufferPointer { theta in
                        m[i].withUnsafeMutableBufferPointer { m in
                            v[i].withUnsafeMutableBufferPointer { v in
                                Adam.update(theta.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!,
                                            count: theta.count, c)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Saving and restoring (for checkpoints)

    /// The optimizer's state: the step count t and the moments m and v, one buffer per
    /// parameter in the order of `parameters` (PyTorch's `optimizer.state_dict()`).
    public var state: (stepCount: Int, m: [[Float]], v: [[Float]]) { (stepCount, m, v) }

    /// Puts back a state read from a checkpoint; the buffers must match the parameters.
    public func restore(stepCount: Int, m: [[Float]], v: [[Float]]) {
        precondition(stepCount >= 0 && m.count == parameters.count && v.count == parameters.count,
                     "Adam.restore: \(m.count) and \(v.count) moment buffers for \(parameters.count) parameters")
        for (i, p) in parameters.enumerated() {
            precondition(m[i].count == p.count && v[i].count == p.count,
                         "Adam.restore: moment buffer \(i) does not match a parameter of shape \(p.shape)")
        }
        self.stepCount = stepCount
        self.m = m
        self.v = v
    }

    /// The per-step scalars of the update.
    struct Coefficients {
        var stepSize, biasCorrection2Sqrt, w1, beta2, w2, eps, decay, l2: Float
    }

    /// The update of one parameter buffer, on raw pointers (no copies, no bounds checks):
    ///
    ///     g' = g + l2·θ;  θ' = decay·θ;  m = m + w1·(g' − m);  v = β₂·v + w2·g'²
    ///     θ = θ' − stepSize · m / (√v / √(1 − β₂ᵗ) + ε)
    @inline(__always)
    static func update(_ theta: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                       _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                       count: Int, _ c: Coefficients) {
        for j in 0..<count {
            let th = theta[j]
            let gj = g[j] + c.l2 * th
            let mj = m[j] + c.w1 * (gj - m[j])
            let vj = c.beta2 * v[j] + c.w2 * (gj * gj)
            m[j] = mj
            v[j] = vj
            let denom = vj.squareRoot() / c.biasCorrection2Sqrt + c.eps
            theta[j] = c.decay * th - c.stepSize * (mj / denom)
        }
    }
}

/// AdamW (Loshchilov & Hutter 2019), exactly as `torch.optim.AdamW`: the weight decay is
/// decoupled from the gradient, θ ← θ·(1 − lr·λ), then the Adam update with the raw gradient.
/// PyTorch's default λ is 0.01.
public final class AdamW: Adam {
    public init(_ parameters: [Tensor], lr: Float = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Float = 1e-8, weightDecay: Float = 1e-2) {
        super.init(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: true)
    }
}
