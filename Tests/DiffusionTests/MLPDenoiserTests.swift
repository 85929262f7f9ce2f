import Foundation
import Testing
@testable import Diffusion
@testable import TinyTensor

/// The time embedding against PyTorch values, the MLP's shape and names, and that sampling runs the same forward pass.
@Suite struct MLPDenoiserTests {
    @Test func timeEmbeddingMatchesTheReferenceFormula() {
        // Values from the tutorial's formula evaluated by torch (float32).
        let e = sinusoidalTimeEmbedding([0, 1, 17, 249], dim: 128)             // [4, 128]
        #expect(e.shape == [4, 128])
        let columns = [0, 1, 10, 63, 64, 65, 100, 127]
        let expected: [[Float]] = [
            [0, 0, 0, 0, 1, 1, 1, 1],
            [0.841471, 0.760439, 0.229712, 0.0001, 0.540302, 0.64941, 0.999987, 1.0],
            [-0.961397, 0.852191, -0.716449, 0.0017, -0.275163, -0.52323, 0.996126, 0.999999],
            [-0.727163, 0.997825, 0.91879, 0.024897, -0.686465, 0.065916, 0.277419, 0.99969],
        ]
        for (r, row) in expected.enumerated() {
            for (c, value) in zip(columns, row) {
                #expect(Swift.abs(e[r, c] - value) < 2e-5, "emb[\(r), \(c)] = \(e[r, c]), expected \(value)")
            }
        }
        // An odd size pads one zero column.
        let odd = sinusoidalTimeEmbedding([3, 500], dim: 7)
        expectClose(odd.data, [0.14112, 0.029995, 0.0003, -0.98999, 0.99955, 1.0, 0,
                               -0.46777, -0.95892, 0.049979, -0.88385, 0.28366, 0.99875, 0], tol: 1e-4)
        // The table gives the same rows.
        let table = TimeEmbeddingTable(timesteps: 250, dim: 128)
        #expect(table([17, 249]).data == sinusoidalTimeEmbedding([17, 249], dim: 128).data)
    }

    @Test func tutorialNetworkShapeAndNames() {
        var rng = RandomGenerator(seed: 1)
        let model = MLPDenoiser(timesteps: 250, rng: &rng)
        let names = model.namedParameters().map(\.name)
        #expect(names == ["input_projection.weight", "input_projection.bias",
                          "hidden.0.weight", "hidden.0.bias", "hidden.1.weight", "hidden.1.bias",
                          "hidden.2.weight", "hidden.2.bias", "hidden.3.weight", "hidden.3.bias",
                          "output.weight", "output.bias"])
        // Keras summary of the tutorial's model: 384 + 32896 + 8256 + 2080 + 528 + 34.
        #expect(model.parameterCount == 44_178)
        #expect(model.hidden[0].weight.shape == [128, 256])
        // Glorot: zero biases, weights within ±√(6/(in+out)).
        #expect(model.hidden[0].bias!.data.allSatisfy { $0 == 0 })
        let limit = (6 / Float(256 + 128)).squareRoot()
        #expect(model.hidden[0].weight.data.allSatisfy { Swift.abs($0) <= limit })
        let x = Tensor.randn([5, 2], using: &rng)
        #expect(model(x, [0, 1, 2, 3, 249]).shape == [5, 2])
    }

    @Test func samplingRunsTheModelTheLearnerReads() {
        // One forward pass: under noGrad the model computes exactly what the autograd path does.
        var rng = RandomGenerator(seed: 2)
        let model = MLPDenoiser(.scaled(width: 32), timesteps: 100, rng: &rng)
        let x = Tensor.randn([40, 2], using: &rng)                          // [40, 2]
        let t = rng.integers(count: 40, below: 100)
        #expect(noGrad { model(x, t) }.data == model(x, t).data)
    }

    @Test func gradientsOfTheModelAgainstFiniteDifferences() {
        var rng = RandomGenerator(seed: 4)
        var config = MLPDenoiser.Configuration.scaled(width: 8, initialization: .pytorch)
        config.embeddingDim = 6
        let model = MLPDenoiser(config, timesteps: 10, rng: &rng)
        let x = Tensor.randn([3, 2], using: &rng)
        let t = [0, 4, 9]
        // Check the input and the first and last weights (ReLU kinks are rare at random points).
        let inputs = [x, model.inputProjection.weight, model.hidden[0].weight, model.output.bias!]
        let r = gradCheck(inputs, step: 1e-3) { _ in model(x, t) }
        #expect(r.maxError < 2e-2, "\(r)")
    }
}

func expectClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, _ comment: Comment? = nil) {
    #expect(a.count == b.count, comment)
    for (x, y) in zip(a, b) where Swift.abs(x - y) > tol * Swift.max(1, Swift.abs(y)) {
        Issue.record("\(x) vs \(y) \(comment.map { "\($0)" } ?? "")")
        return
    }
}
