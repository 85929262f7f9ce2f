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
/// Inside `noGrad` (sampling, evaluation) the call takes a fused path: since h₀ has no
/// activation, the first two layers collapse into one affine map of x plus a per-step bias,
///
///     W₁·[emb(t), W_in·x + b_in] + b₁ = (W₁ₓ·W_in)·x + (W₁ₓ·b_in + W₁ₑ·emb(t) + b₁)
///
/// where W₁ = [W₁ₑ | W₁ₓ] is split by columns. A: [128, 2] replaces a [B, 256]·[256, 128]
/// product with a [B, 2]·[2, 128] one, and the step's bias is one matrix-vector product for
/// the whole batch. Same function, 4× fewer multiply-adds; `MLPDenoiserTests` checks both agree.
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
        if !GradMode.isEnabled { return fusedForward(x, t) }
        let h0 = inputProjection(x)                                  // [B, inputWidth]
        var h = Tensor.concat([embeddings(t), h0], axis: 1)          // [B, embeddingDim + inputWidth]
        for layer in hidden { h = layer(h).relu() }                  // [B, 16]
        return output(h)                                             // [B, dataDim]
    }

    // MARK: - The fused inference path (no autograd, raw buffers)

    /// The same function as the layer-by-layer path, for `noGrad` callers (see the type's doc).
    func fusedForward(_ x: Tensor, _ t: [Int]) -> Tensor {
        let c = configuration
        let batch = x.shape[0], d = c.dataDim, e = c.embeddingDim, n = c.inputWidth
        let first = hidden[0], h1 = c.hidden[0]
        let w1 = first.weight.data                                   // [h1, e + n]
        // A = W₁ₓ·W_in, stored by columns: a[k·h1 + j] = A[j, k]    [d, h1]
        // base = W₁ₓ·b_in + b₁                                        [h1]
        var a = [Float](repeating: 0, count: d * h1)
        var base = first.bias?.data ?? [Float](repeating: 0, count: h1)
        let wIn = inputProjection.weight.data, bIn = inputProjection.bias?.data
        for j in 0..<h1 {
            let row = j * (e + n) + e
            for q in 0..<n {
                let w = w1[row + q]
                for k in 0..<d { a[k * h1 + j] += w * wIn[q * d + k] }
                if let bIn { base[j] += w * bIn[q] }
            }
        }
        // One bias row per distinct step: bias(t) = base + W₁ₑ·emb(t)  [S, h1]
        let steps = t.allSatisfy({ $0 == t[0] }) ? [t[0]] : Array(Set(t)).sorted()   // sampling: one step
        var slot = [Int: Int]()
        var biases = [Float](repeating: 0, count: steps.count * h1)
        for (s, step) in steps.enumerated() {
            slot[step] = s
            let emb = embeddings([step]).data                        // [e]
            for j in 0..<h1 {
                var sum = base[j]
                for q in 0..<e { sum += w1[j * (e + n) + q] * emb[q] }
                biases[s * h1 + j] = sum
            }
        }
        let rowSlot = steps.count == 1 ? [Int](repeating: 0, count: batch) : t.map { slot[$0]! }
        // h = ReLU(A·x + bias(t))  [B, h1]
        var h = [Float](repeating: 0, count: batch * h1)
        x.data.withUnsafeBufferPointer { xp in a.withUnsafeBufferPointer { ap in biases.withUnsafeBufferPointer { bp in
            h.withUnsafeMutableBufferPointer { hp in
                for r in 0..<batch {
                    let out = hp.baseAddress! + r * h1, bias = bp.baseAddress! + rowSlot[r] * h1
                    for j in 0..<h1 { out[j] = bias[j] }
                    for k in 0..<d {
                        let xk = xp[r * d + k], col = ap.baseAddress! + k * h1
                        for j in 0..<h1 { out[j] += col[j] * xk }
                    }
                    for j in 0..<h1 { out[j] = Swift.max(0, out[j]) }
                }
            }
        } } }
        // The remaining layers: y = x·Wᵀ + b, ReLU on the hidden ones.
        var width = h1
        for (i, layer) in (hidden.dropFirst() + [output]).enumerated() {
            let out = layer.weight.shape[0]
            h = MLPDenoiser.affine(h, rows: batch, inFeatures: width, layer: layer, relu: i < hidden.count - 1)
            width = out
        }
        return Tensor(h, shape: [batch, d])
    }

    /// y = x·Wᵀ + b (and ReLU) on raw buffers: x [rows, in] → [rows, out].
    static func affine(_ x: [Float], rows: Int, inFeatures: Int, layer: Linear, relu: Bool) -> [Float] {
        let out = layer.weight.shape[0]
        var y = [Float](repeating: 0, count: rows * out)
        if let b = layer.bias?.data {
            y.withUnsafeMutableBufferPointer { yp in
                for r in 0..<rows { for j in 0..<out { yp[r * out + j] = b[j] } }
            }
        }
        x.withUnsafeBufferPointer { xp in layer.weight.data.withUnsafeBufferPointer { wp in
            y.withUnsafeMutableBufferPointer { yp in
                gemm(transA: false, transB: true, m: rows, n: out, k: inFeatures, a: xp.baseAddress!, lda: inFeatures,
                     b: wp.baseAddress!, ldb: inFeatures, beta: layer.bias == nil ? 0 : 1, c: yp.baseAddress!, ldc: out)
                if relu { for i in 0..<yp.count { yp[i] = Swift.max(0, yp[i]) } }
            }
        } }
        return y
    }
}
