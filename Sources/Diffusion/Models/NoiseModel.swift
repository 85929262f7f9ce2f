import TinyTensor

/// A network that predicts the noise, ε_θ(x_t, t): the MLP of Chapter 4 and the U-Nets of
/// Chapters 5–8. The trainer and the samplers need nothing else of a model.
public protocol NoiseModel: Module {
    /// The number of classes of a class-conditional model (Chapter 8; the label `numClasses`
    /// is "no class", ∅), nil for an unconditional one.
    var numClasses: Int? { get }
    /// ε̂ = ε_θ(x_t, t) or, with labels, ε_θ(x_t, t, y), one timestep index (and label) per
    /// example. Labels are for a class-conditional model only.
    func predictNoise(_ x: Tensor, _ t: [Int], labels: [Int]?) -> Tensor
}

extension NoiseModel {
    /// ε_θ(x_t, t) as the samplers call it (a class-conditional model predicts with ∅).
    public var noisePredictor: NoisePredictor { { x, t in self.predictNoise(x, t, labels: nil) } }

    /// ε_θ(x_t, t, y) as classifier-free guidance calls it; nil for an unconditional model.
    public var conditionalNoisePredictor: ConditionalNoisePredictor? {
        guard numClasses != nil else { return nil }
        return { x, t, y in self.predictNoise(x, t, labels: y) }
    }
}

extension DenoisingUNet {
    /// Unconditional unless the U-Net says otherwise (only `Unet` can be class-conditional).
    public var numClasses: Int? { nil }

    /// The steps as floats, as the U-Nets' time embedding takes them.
    public func predictNoise(_ x: Tensor, _ t: [Int], labels: [Int]? = nil) -> Tensor {
        precondition(labels == nil, "predictNoise: labels given to a model without classes")
        return self(x, Tensor(t.map(Float.init)))
    }
}

extension MLPDenoiser: NoiseModel {
    public var numClasses: Int? { nil }

    public func predictNoise(_ x: Tensor, _ t: [Int], labels: [Int]? = nil) -> Tensor {
        precondition(labels == nil, "MLPDenoiser: labels given to a model without classes")
        return self(x, t)
    }
}
