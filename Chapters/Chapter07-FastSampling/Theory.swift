import Diffusion
import TinyTensor

// The numerical check of the lesson's theory section (2b): DDIM's forward family has DDPM's marginals.

/// The DDIM family's marginals checked by Monte Carlo: from x_T ~ q(x_T | x_0) (x_0 = 0.5, one
/// pixel, `chains` times), every step x_s ~ q_σ(x_s | x_t, x_0) for η = 0 and η = 1; returns the
/// printed lines (largest deviation of the mean and of the variance from √ᾱ_s x_0 and 1 − ᾱ_s).
func familyCheck(alphaBar: [Double], steps: [Int], chains: Int = 200_000, seed: UInt64 = 11) -> String {
    let x0 = 0.5
    var lines = ["the DDIM forward family q_σ(x_s | x_t, x_0) keeps q(x_s | x_0) = N(√ᾱ_s x_0, (1 − ᾱ_s) I), "
                 + "\(chains) chains down \(steps.count) steps (Monte Carlo error about \(String(format: "%.3f", (2.0 / Double(chains)).squareRoot()))):"]
    for eta in [0.0, 1.0] {
        var rng = RandomGenerator(seed: seed)
        let first = alphaBar[steps[0]]
        var x = Tensor.randn([chains], using: &rng).data.map { first.squareRoot() * x0 + (1 - first).squareRoot() * Double($0) }
        var worstMean = 0.0, worstVariance = 0.0
        for (i, t) in steps.enumerated() where i + 1 < steps.count {
            let (abT, abS) = (alphaBar[t], alphaBar[steps[i + 1]])
            let sigma = eta * ((1 - abS) / (1 - abT)).squareRoot() * (1 - abT / abS).squareRoot()
            let z = Tensor.randn([chains], using: &rng).data
            for j in 0..<chains {
                let noise = (x[j] - abT.squareRoot() * x0) / (1 - abT).squareRoot()          // the true ε of x_t
                x[j] = abS.squareRoot() * x0 + (1 - abS - sigma * sigma).squareRoot() * noise + sigma * Double(z[j])
            }
            let mean = x.reduce(0, +) / Double(chains)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(chains - 1)
            worstMean = max(worstMean, abs(mean - abS.squareRoot() * x0) / (1 - abS).squareRoot())
            worstVariance = max(worstVariance, abs(variance / (1 - abS) - 1))
        }
        lines.append(String(format: "  η = %g: largest |mean − √ᾱ_s x_0| / √(1 − ᾱ_s) %.4f, largest |variance / (1 − ᾱ_s) − 1| %.4f",
                            eta, worstMean, worstVariance))
    }
    return lines.joined(separator: "\n")
}

