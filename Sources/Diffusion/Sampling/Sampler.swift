import Foundation
import TinyTensor

/// A sampler in the form of diffusers' schedulers: the steps it visits and one update.
///
///     let sampler = DDIMSampler(diffusion, steps: TimestepSpacing.trailing.timesteps(count: 50, of: T))
///     var x = Tensor.randn([64, 1, 28, 28], using: &rng)          // x_T ~ N(0, I)
///     for i in sampler.timesteps.indices {
///         x = sampler.step(epsilon, x: x, index: i, using: &rng)  // one network pass (Heun: two)
///     }
///
/// That loop is `sample(_:from:using:onStep:)`, the one reverse loop of the course: DDPM
/// (Algorithm 2), DDIM and its inversion, respaced DDPM, predictor–corrector, the
/// probability-flow ODE and Langevin dynamics all run through it, each saying only where it
/// goes (`timesteps`) and how it takes one step (`step`).
public protocol Sampler {
    /// What `step` calls: a noise predictor ε_θ(x_t, t) for the samplers of DDPM, a score
    /// s(x, σ) for Langevin dynamics.
    associatedtype Model

    /// The step index of each call to `step`, in order (for DDPM: T − 1, T − 2, …, 0).
    var timesteps: [Int] { get }

    /// The state after the `i`-th step, from `x`, the state before it (the network sees
    /// `timesteps[i]`). Draws from `rng` only what the step needs.
    func step(_ model: Model, x: Tensor, index i: Int, using rng: inout RandomGenerator) -> Tensor

    /// Network passes of one `sample` call: one per step unless the sampler says otherwise
    /// (Heun's steps take two).
    var networkPasses: Int { get }
}

extension Sampler {
    /// Runs every step from `x` (usually x_T ~ N(0, I)): the one reverse loop of the course.
    ///
    /// - Parameter onStep: called after each step with its `timesteps` entry and the new state
    ///   (progress lines, GIF frames, the x̂_0 figures).
    public func sample(_ model: Model, from x: Tensor, using rng: inout RandomGenerator,
                       onStep: ((_ t: Int, _ x: Tensor) -> Void)? = nil) -> Tensor {
        var x = x                                                               // [B, ...]
        for (i, t) in timesteps.enumerated() {
            x = step(model, x: x, index: i, using: &rng)
            onStep?(t, x)
        }
        return x
    }

    public var networkPasses: Int { timesteps.count }
}
