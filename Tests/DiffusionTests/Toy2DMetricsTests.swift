import Testing
@testable import Diffusion
@testable import TinyTensor

@Suite struct Toy2DMetricsTests {
    let centres: [(x: Float, y: Float)] = [(0, 0), (4, 0)]

    @Test func nearestCentresSharesAndRadius() {
        let points = Tensor([0.1, 0, 3.7, 0.1, 2.1, 0, 4, 0.6], shape: [4, 2])
        let (index, distance) = Toy2DMetrics.nearestCentres(points, centres: centres)
        #expect(index == [0, 1, 1, 1])
        #expect(Swift.abs(distance[2] - 1.9) < 1e-6)
        #expect(Toy2DMetrics.shares(index, count: 2) == [0.25, 0.75])
        let m = Toy2DMetrics.evaluate(samples: points, centres: centres, reference: points, realDraws: [points])
        #expect(m.withinRadius == 0.5)           // 0.1 and 0.32 are inside 0.5; 1.9 and 0.6 are not
        #expect(m.energyDistance == 0 && m.energyDistanceFloor == 0)
    }

    @Test func energyDistanceByHand() {
        // One point at 0 vs one point at (3, 4): 2·5 − 0 − 0.
        #expect(Toy2DMetrics.energyDistance(Tensor([0, 0], shape: [1, 2]), Tensor([3, 4], shape: [1, 2])) == 10)
        // {0, 2} vs {1}: 2·1 − (0 + 2 + 2 + 0)/4 − 0 = 1.
        let a = Tensor([0, 0, 2, 0], shape: [2, 2]), b = Tensor([1, 0], shape: [1, 2])
        #expect(Swift.abs(Toy2DMetrics.energyDistance(a, b) - 1) < 1e-12)
    }

    @Test func mixtureSampleIsSpreadOverTheCentres() {
        var rng = RandomGenerator(seed: 1)
        let x = Toy2DMetrics.mixtureSample(count: 4000, centres: centres, std: 0.1, using: &rng)
        let shares = Toy2DMetrics.shares(Toy2DMetrics.nearestCentres(x, centres: centres).index, count: 2)
        #expect(Swift.abs(shares[0] - 0.5) < 0.03)
    }
}
