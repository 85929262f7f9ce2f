import Foundation
import TinyTensor

/// The noise predictor ε_θ(x_t, t) of the 2D tutorial (InFoCusp): a small fully connected
/// network that sees a noisy point and the step, and guesses the noise that was added.
///
///     h₀ = W_in·x + b_in                       Dense(128) on x, no activation     [B, 128]
///     h  = [emb(t), h₀]                        concatenated with the time embedding [B, 256]
///     h  = ReLU(W_k·h + b_k)  for widths 128, 64, 32, 16                          [B, 16]
///     ε̂  = W_out·h + b_out                     Dense(2)                            [B, 2]
///
/// emb(t) is the fixed 128-d sinusoidal embedding (`sinusoidalTimeEmbedding`). The widths
/// and the depth are configurable for the ablations. Parameter names follow PyTorch:
/// `input_projection.weight`, `hidden.0.weight` … `hidden.3.bias`, `output.weight`.
///
/// Training and sampling run the same `callAsFunction`: edit it, and both change.
public final class MLPDenoiser: Module {
    /// The shape of the network.
    public struct Configuration: Equatable {
        /// Size of a data point (2 for the plane).
        public var dataDim = 2
        /// Width of the Dense layer applied to x (128).
        public var inputWidth = 128
        /// Size of the sinusoidal time embedding (128).
        public var embeddingDim = 128
        /// Widths of the ReLU layers after the concatenation (128, 64, 32, 16).
        public var hidden = [128, 64, 32, 16]
        /// Keras' Glorot-uniform with zero biases (the tutorial's), or PyTorch's default.
        public var initialization: Linear.Initialization = .glorotUniform

        public init() {}

        /// The tutorial's network.
        public static let tutorial = Configuration()

        /// The tutorial's funnel scaled to first width `width`: input `width`, hidden
        /// width, width/2, width/4, width/8 (at least 2 each).
        public static func scaled(width: Int, initialization: Linear.Initialization = .glorotUniform) -> Configuration {
            var c = Configuration()
            c.inputWidth = width
            c.hidden = [1, 2, 4, 8].map { Swift.max(2, width / $0) }
            c.initialization = initialization
            return c
        }
    }

    public let configuration: Configuration
    /// Dense on x, no activation.                                    W: [inputWidth, dataDim]
    public let inputProjection: Linear
    /// The ReLU layers; the first takes [emb(t), h₀].                W₁: [hidden₀, embeddingDim + inputWidth]
    public let hidden: [Linear]
    /// The linear read-out of the predicted noise.                   W: [dataDim, hidden.last]
    public let output: Linear
    /// emb(t) for t = 0..<T, computed once.
    let embeddings: TimeEmbeddingTable

    /// - Parameters:
    ///   - timesteps: T, the number of diffusion steps (valid t are 0..<T).
    public init(_ configuration: Configuration = .tutorial, timesteps: Int, rng: inout RandomGenerator) {
        precondition(!configuration.hidden.isEmpty, "MLPDenoiser: needs at least one hidden layer")
        self.configuration = configuration
        let c = configuration
        inputProjection = Linear(c.dataDim, c.inputWidth, initialization: c.initialization, rng: &rng)
        var layers: [Linear] = []
        var width = c.embeddingDim + c.inputWidth
        for h in c.hidden {
            layers.append(Linear(width, h, initialization: c.initialization, rng: &rng))
            width = h
        }
        hidden = layers
        output = Linear(width, c.dataDim, initialization: c.initialization, rng: &rng)
        embeddings = TimeEmbeddingTable(timesteps: timesteps, dim: c.embeddingDim)
    }

    /// ε̂ = ε_θ(x_t, t): x [B, dataDim], one timestep index per row → [B, dataDim].
    public func callAsFunction(_ x: Tensor, _ t: [Int]) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == configuration.dataDim && t.count == x.shape[0],
                     "MLPDenoiser: expected x [B, \(configuration.dataDim)] and B timesteps, got \(x.shape) and \(t.count)")
        let h0 = inputProjection(x)                                  // [B, inputWidth]
        var h = Tensor.concat([embeddings(t), h0], axis: 1)          // [B, embeddingDim + inputWidth]
        for layer in hidden { h = layer(h).relu() }                  // [B, 16]
        return output(h)                                             // [B, dataDim]
    }

}
