import Foundation
import Testing
import TinyTensor
import Diffusion

/// Golden values computed in float64 by Fixtures/make_schedule_golden.py (numpy).
struct Golden: Decodable {
    let T: Int
    let indices: [Int]
    let arrays: [String: [Double]]
}

func loadGolden() throws -> [String: Golden] {
    let url = try #require(Bundle.module.url(forResource: "schedule_golden", withExtension: "json",
                                             subdirectory: "Fixtures"))
    return try JSONDecoder().decode([String: Golden].self, from: Data(contentsOf: url))
}

@Suite struct ScheduleTests {
    /// diffusers' `test_variance`: linear 1e-4..0.02, T = 1000, fixed-small variance.
    @Test func posteriorVarianceMatchesDiffusers() throws {
        let s = try NoiseSchedule(.linear, timesteps: 1000)
        #expect(s.posteriorVariance.data[0] == 0)
        #expect(abs(s.posteriorVariance.data[487] - 0.0097916) < 1e-7)
        #expect(abs(s.posteriorVariance.data[999] - 0.0199999) < 1e-7)
        let d = s.doubleArrays
        #expect(abs(d.posteriorVariance[487] - 0.009791572) < 1e-9)
    }

    /// Every derived array against numpy float64, for the four schedules and four T.
    @Test func derivedArraysMatchNumpy() throws {
        let golden = try loadGolden()
        #expect(golden.count == 16)
        for (key, g) in golden {
            let kind = try BetaSchedule(name: String(key.split(separator: "_")[0]))
            let s = try NoiseSchedule(kind, timesteps: g.T)
            let named = Dictionary(uniqueKeysWithValues: s.namedArrays.map { ($0.name, $0.values) })
            for (name, expected) in g.arrays {
                let values = try #require(named[name], "missing array \(name)")
                #expect(values.shape == [g.T])
                for (i, e) in zip(g.indices, expected) {
                    let got = Double(values.data[i])
                    let tol = 2e-6 * max(1, abs(e))
                    #expect(abs(got - e) <= tol, "\(key) \(name)[\(i)] = \(got), numpy \(e)")
                }
            }
        }
    }

    @Test func endPoints() throws {
        for kind in BetaSchedule.allCases {
            let s = try NoiseSchedule(kind, timesteps: 1000)
            #expect(s.alphasCumprodPrev.data[0] == 1)
            #expect(s.posteriorVariance.data[0] == 0)
            // ᾱ decreases monotonically.
            let ab = s.alphasCumprod.data
            #expect(zip(ab, ab.dropFirst()).allSatisfy { $0 >= $1 })
        }
        let cosine = try NoiseSchedule(.cosine, timesteps: 1000)
        #expect(abs(cosine.betas.data[999] - 0.9999) < 1e-6)     // clipped at the top
        #expect(cosine.betas.data.allSatisfy { $0 >= 1e-4 - 1e-9 && $0 <= 0.9999 + 1e-7 })
        let sigmoid = try NoiseSchedule(.sigmoid, timesteps: 1000)
        let lo = 1e-4 + (0.02 - 1e-4) / (1 + exp(6.0)), hi = 1e-4 + (0.02 - 1e-4) / (1 + exp(-6.0))
        #expect(abs(Double(sigmoid.betas.data[0]) - lo) < 1e-9)
        #expect(abs(Double(sigmoid.betas.data[999]) - hi) < 1e-8)
        let linear = try NoiseSchedule(.linear, timesteps: 1000)
        #expect(linear.betas.data[0] == 1e-4 && linear.betas.data[999] == 0.02)
    }

    @Test func rescaledLinearKeepsTheSignalNearTheT1000Value() throws {
        let plain = try NoiseSchedule(.linear, timesteps: 250)
        let rescaled = try NoiseSchedule(.linear, timesteps: 250, rescaleLinear: true)
        #expect(abs(rescaled.betaStart - 4e-4) < 1e-15 && abs(rescaled.betaEnd - 0.08) < 1e-15)
        #expect(plain.sqrtAlphasCumprod.data[249] > 0.25)
        #expect(rescaled.sqrtAlphasCumprod.data[249] < 0.01)
    }

    @Test func snrIsAlphaBarOverOneMinusAlphaBar() throws {
        let s = try NoiseSchedule(.cosine, timesteps: 300)
        let d = s.doubleArrays
        for i in [0, 100, 299] {
            let ab = d.alphasCumprod[i]
            #expect(abs(Double(s.snr.data[i]) - ab / (1 - ab)) <= 1e-4 * max(1, ab / (1 - ab)))
        }
    }

    @Test func singleStepScheduleIsValid() throws {
        let s = try NoiseSchedule(.linear, timesteps: 1)
        #expect(s.betas.data == [1e-4])
        #expect(s.alphasCumprodPrev.data == [1])
    }

    @Test func badParametersThrowOneSentence() {
        #expect(throws: DiffusionError.self) { try NoiseSchedule(.linear, timesteps: 0) }
        #expect(throws: DiffusionError.self) { try NoiseSchedule(.linear, timesteps: 100, betaStart: 0.02, betaEnd: 0.01) }
        #expect(throws: DiffusionError.self) { try NoiseSchedule(.linear, timesteps: 100, betaStart: 0, betaEnd: 0.01) }
        #expect(throws: DiffusionError.self) { try NoiseSchedule(.linear, timesteps: 100, betaEnd: 1) }
        #expect(throws: DiffusionError.self) { try NoiseSchedule(.linear, timesteps: 10, rescaleLinear: true) }
        do {
            _ = try BetaSchedule(name: "cosin")
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cosin") && text.contains("linear, quadratic, cosine, sigmoid"))
            #expect(!text.contains("\n"))
        }
    }
}
