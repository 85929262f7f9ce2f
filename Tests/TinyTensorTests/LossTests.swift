import Testing
@testable import TinyTensor

/// MSE, L1, Huber and cross-entropy: values by hand (or PyTorch), gradients by finite differences.
@Suite struct LossTests {
    @Test func valuesByHand() {
        let p = Tensor([0, 1, 3, -2], shape: [2, 2]), y = Tensor([0.5, 1, 0, 0], shape: [2, 2])
        // differences −0.5, 0, 3, −2
        #expect(Swift.abs(mseLoss(p, y).item - (0.25 + 9 + 4) / 4) < 1e-6)
        #expect(Swift.abs(l1Loss(p, y).item - (0.5 + 3 + 2) / 4) < 1e-6)
        // Huber β = 1: 0.5·0.25, 0, 3 − 0.5, 2 − 0.5
        #expect(Swift.abs(huberLoss(p, y).item - (0.125 + 2.5 + 1.5) / 4) < 1e-6)
        // β = 4: all quadratic, 0.5 d²/4
        #expect(Swift.abs(huberLoss(p, y, beta: 4).item - (0.25 + 9 + 4) / 32) < 1e-6)
        #expect(RegressionLoss.huber(p, y).item == huberLoss(p, y).item)
    }

    @Test func gradientsAgainstFiniteDifferences() {
        // Differences kept away from the kinks (0 for L1, ±1 for Huber).
        let p = Tensor([0.3, -1.7, 2.2, 0.6, -0.4, 1.9], shape: [2, 3])
        let y = Tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.0], shape: [2, 3])
        for (name, loss) in [("mse", RegressionLoss.mse), ("l1", .l1), ("huber", .huber)] {
            let r = gradCheck([p, y], step: 1e-2) { loss($0[0], $0[1]) }
            #expect(r.maxError < 1e-2, "\(name): \(r)")
        }
    }

    @Test func crossEntropyValueAndGradient() {
        // torch.nn.functional.cross_entropy([[0.5, -1, 2], [3, 0.1, -0.7]], [2, 1]) = 1.6090189081692812
        let z = Tensor([0.5, -1, 2, 3, 0.1, -0.7], shape: [2, 3])
        #expect(Swift.abs(crossEntropy(z, [2, 1]).item - 1.6090189) < 1e-5)
        // Large logits do not overflow: log-sum-exp subtracts the row maximum.
        #expect(Swift.abs(crossEntropy(Tensor([1000, 0], shape: [1, 2]), [1]).item - 1000) < 1e-3)
        let r = gradCheck([z], step: 1e-2) { crossEntropy($0[0], [2, 1]) }
        #expect(r.maxError < 1e-3, "cross_entropy: \(r)")
    }
}
