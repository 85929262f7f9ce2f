import Foundation
import TinyTensor

/// Which sub-sequence τ of the T training steps a fast sampler visits (descending, τ_1 > … > τ_S).
///
/// For T = 1000 and S = 10:
/// - leading   τ = (0, 1, …, S−1) · ⌊T/S⌋, reversed: 900, 800, …, 0 (diffusers' default for DDIM;
///             the chain never starts at t = T − 1, so it begins from a step that still holds signal)
/// - trailing  τ = round(T − k·T/S) − 1, k = 0 … S−1: 999, 899, …, 99 (starts at the last step)
/// - linspace  τ = round(linspace(0, T − 1, S)), reversed: 999, 888, …, 0
/// - quadratic τ = ⌊(linspace(0, √(0.8 T), S))²⌋, reversed (the DDIM paper's CIFAR-10 choice:
///             dense near t = 0, where the image takes its final form)
///
/// Lin et al. 2024 ("Common Diffusion Noise Schedules and Sample Steps are Flawed") argue that a
/// sampler must start at the last step, as trailing and linspace do. Chapter 7 measures trailing
/// and linspace on its model; its exercise 2 adds leading and quadratic.
public enum TimestepSpacing: String, CaseIterable {
    case leading, trailing, linspace, quadratic

    /// S distinct timestep indices in 0..<T, largest first.
    public func timesteps(count s: Int, of T: Int) -> [Int] {
        precondition(s >= 1 && s <= T, "TimestepSpacing: \(s) steps out of 1...\(T)")
        let ascending: [Int]
        switch self {
        case .leading:
            ascending = (0..<s).map { $0 * (T / s) }
        case .trailing:
            ascending = (0..<s).map { k in Int((Double(T) - Double(k) * Double(T) / Double(s)).rounded()) - 1 }.reversed()
        case .linspace:
            ascending = (0..<s).map { k in Int((Double(T - 1) * Double(k) / Double(max(1, s - 1))).rounded()) }
        case .quadratic:
            let top = (0.8 * Double(T)).squareRoot()
            ascending = (0..<s).map { k in
                let v = top * Double(k) / Double(max(1, s - 1))
                return Int(v * v)
            }
        }
        // Keep them distinct and in range (a quadratic sequence can repeat small values).
        var seen = Set<Int>(), out: [Int] = []
        for t in ascending.map({ min(max($0, 0), T - 1) }) where seen.insert(t).inserted { out.append(t) }
        return out.reversed()
    }
}
