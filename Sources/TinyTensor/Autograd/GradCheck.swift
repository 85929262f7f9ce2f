/// Finite-difference gradient checking: the proof that each op's backward is right.
///
/// For a scalar loss L(x) = Σ f(x) ⊙ w with a fixed random weighting w (so that every output
/// element matters differently), the analytic gradient from `backward()` is compared with
/// the central difference (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h for every element of every input.
/// Sums are taken in Double; h defaults to 1e-2, which suits Float32 ops on O(1) inputs.
public struct GradCheckResult: CustomStringConvertible {
    /// max |analytic − numeric| / max(1, |numeric|) over all checked elements.
    public var maxError: Float
    /// Where the largest error was: input index and flat element index.
    public var worst: (input: Int, element: Int)
    public var description: String { "max error \(maxError) at input \(worst.input) element \(worst.element)" }
}

public func gradCheck(_ inputs: [Tensor], step h: Float = 1e-2, seed: UInt64 = 1,
                      _ f: ([Tensor]) -> Tensor) -> GradCheckResult {
    var rng = RandomGenerator(seed: seed)
    let probe = noGrad { f(inputs) }
    let w = rng.normal(count: probe.count)
    func loss() -> Double {
        let y = noGrad { f(inputs) }
        var s: Double = 0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(w[i]) }
        return s
    }
    for x in inputs { x.requiresGrad = true; x.grad = nil }
    let y = f(inputs)
    (y * Tensor(w, shape: y.shape)).sum().backward()
    var result = GradCheckResult(maxError: 0, worst: (0, 0))
    for (xi, x) in inputs.enumerated() {
        let analytic = x.grad?.data ?? [Float](repeating: 0, count: x.count)
        for e in 0..<x.count {
            let old = x.data[e]
            x.data[e] = old + h; let up = loss()
            x.data[e] = old - h; let down = loss()
            x.data[e] = old
            let numeric = Float((up - down) / Double(2 * h))
            let err = Swift.abs(analytic[e] - numeric) / Swift.max(1, Swift.abs(numeric))
            if err > result.maxError { result = GradCheckResult(maxError: err, worst: (xi, e)) }
        }
    }
    return result
}
