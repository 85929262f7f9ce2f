import Foundation
import TinyTensor

/// A class-conditional noise predictor ε_θ(x_t, t, y): images, one step and one label per image.
public typealias ConditionalNoisePredictor = (Tensor, [Int], [Int]) -> Tensor

/// Classifier-free guidance (Ho & Salimans 2022): one network, trained with its labels
/// sometimes dropped (replaced by the null class ∅), predicts both ε_θ(x_t, t, y) and
/// ε_θ(x_t, t, ∅), and sampling extrapolates from the second towards the first:
///
///     ε̃ = ε_∅ + w (ε_y − ε_∅)  =  w ε_y + (1 − w) ε_∅
///
/// Convention (as in Ho & Salimans' ε̃ = (1 + w') ε_y − w' ε_∅ with w = 1 + w'): **w = 0 is
/// unconditional sampling, w = 1 plain conditional sampling**, w > 1 guides beyond it. Written
/// as w ε_y + (1 − w) ε_∅, both ends are exact: w = 0 gives ε_∅ and w = 1 gives ε_y bit for bit.
/// Both predictions come from one pass over a batch twice the size ([x; x] with [y; ∅]).
///
/// - Parameters:
///   - labels: the class y of each image to sample; `nullLabel` is ∅.
/// - Returns: a `NoisePredictor` for any sampler (`DDPMSampler`, `DDIMSampler`, …).
public func classifierFreeGuidance(_ model: @escaping ConditionalNoisePredictor, labels: [Int], nullLabel: Int,
                                   scale w: Double) -> NoisePredictor {
    let w = Float(w)
    return { x, t in
        let b = x.shape[0]
        precondition(labels.count == b && t.count == b, "classifierFreeGuidance: \(labels.count) labels for \(b) images")
        let both = model(Tensor.concat([x, x], axis: 0), t + t,
                         labels + Array(repeating: nullLabel, count: b))               // [2B, C, H, W]
        let halves = both.chunk(2)
        let (conditional, unconditional) = (halves[0], halves[1])                      // ε_y, ε_∅  [B, C, H, W]
        return w * conditional + (1 - w) * unconditional                               // ε̃   [B, C, H, W]
    }
}
