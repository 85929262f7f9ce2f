// MARK: - Making tensors

extension Tensor {
    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor([Float](repeating: 0, count: shape.product), shape: shape) }
    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }
    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor([Float](repeating: value, count: shape.product), shape: shape)
    }

    /// `count` evenly spaced values from `start` to `end` inclusive (torch.linspace),
    /// computed in Double: xᵢ = start + i·(end − start)/(count − 1).
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        precondition(count >= 1, "linspace: count must be at least 1, got \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (Double(end) - Double(start)) / Double(count - 1)
        return Tensor((0..<count).map { Float(Double(start) + Double($0) * step) })
    }

    /// Values start, start + step, ... below `end` (torch.arange).
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step must not be 0")
        let n = Swift.max(0, Int((Double(end - start) / Double(step)).rounded(.up)))
        return Tensor((0..<n).map { start + Float($0) * step })
    }

    /// Samples of N(0, 1) from `rng` (the stream does not depend on the thread count).
    public static func randn(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        Tensor(rng.normal(count: shape.product), shape: shape)
    }

    /// Samples of U[low, high) from `rng`.
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        Tensor(rng.uniform(count: shape.product, low: low, high: high), shape: shape)
    }

    /// A tensor shaped like `self` with samples of N(0, 1).
    public func randnLike(using rng: inout RandomGenerator) -> Tensor { Tensor.randn(shape, using: &rng) }
}
