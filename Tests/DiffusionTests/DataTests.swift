import Foundation
import Testing
import TinyTensor
import Diffusion

@Suite struct ToyDataTests {
    @Test func clusterStatistics() throws {
        var rng = RandomGenerator(seed: 0)
        let data = ToyDatasets.clusters(using: &rng)
        #expect(data.points.shape == [8000, 2])
        #expect(data.labels.count == 8000 && data.componentCount == 8)
        for (k, c) in data.centres.enumerated() {
            let rows = data.points.slice(k * 1000..<(k + 1) * 1000)            // [1000, 2]
            #expect(data.labels[k * 1000] == k && data.labels[k * 1000 + 999] == k)
            let mean = rows.mean(axis: 0).data, sd = rows.variance(axes: [0], correction: 1).sqrt().data
            let se = 0.1 / 1000.0.squareRoot()
            #expect(abs(Double(mean[0] - c.x)) < 5 * se && abs(Double(mean[1] - c.y)) < 5 * se)
            for s in sd { #expect(abs(Double(s) - 0.1) < 0.012) }
        }
        #expect(data.centres[4].x == 2 && data.centres[4].y == 2 && data.centres[0].y == 4)
    }

    @Test func deterministicAndSeedDependent() throws {
        for name in ToyDatasets.names {
            var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3), c = RandomGenerator(seed: 4)
            let x = try ToyDatasets.make(name, using: &a), y = try ToyDatasets.make(name, using: &b)
            let z = try ToyDatasets.make(name, using: &c)
            #expect(x.points.data == y.points.data)
            #expect(x.points.data != z.points.data)
            #expect(x.points.shape == [8000, 2] && x.labels.count == 8000)
            let maxAbs = x.points.data.map { abs($0) }.max()!
            #expect(maxAbs > 3 && maxAbs < 5, "\(name) should fill about the ±4 box, max |x| = \(maxAbs)")
        }
        var rng = RandomGenerator(seed: 0)
        #expect(throws: DiffusionError.self) { try ToyDatasets.make("swissroll", using: &rng) }
    }

    @Test func centerCropResize() {
        // A 2 × 4 × 6 image: the centred 4 × 4 square is columns 1...4; halving it averages 2 × 2 blocks.
        let w = 6, h = 4
        var values = [Float]()
        for c in 0..<2 { for y in 0..<h { for x in 0..<w { values.append(Float(c * 100 + y * 10 + x)) } } }
        let image = Tensor(values, shape: [2, h, w])
        let out = ImageTransforms.centerCropResize(image, size: 2)
        #expect(out.shape == [2, 2, 2])
        #expect(out.data[0] == Float(1 + 2 + 11 + 12) / 4)
        #expect(out.data[3] == Float(23 + 24 + 33 + 34) / 4)
        #expect(out.data[4] == 100 + Float(1 + 2 + 11 + 12) / 4)
        // 3 → 2 uses fractional weights that sum to one: a constant image stays constant.
        let flat = ImageTransforms.centerCropResize(Tensor.full([1, 3, 3], 0.25), size: 2)
        for v in flat.data { #expect(abs(v - 0.25) < 1e-6) }
        let up = ImageTransforms.centerCropResize(image, size: 8)
        #expect(up.shape == [2, 8, 8] && up.data[0] == 1)
    }
}
