// Chapter 1 — The data: eight Gaussian clusters in the plane.
//
// A diffusion model learns a probability distribution from samples. Images live in a space
// with one axis per pixel; to *see* what happens we start, like the 2D tutorial (InFoCusp,
// "Understanding Diffusion Models by Coding"), with "images" of just two pixels: points in
// the plane. The data distribution is a mixture of 8 Gaussians:
//
//     x ~ N(c_k, 0.1² I),  k = 0 … 7,  c_k ∈ 4 · {(0,1), (1,0), (0,−1), (−1,0), (±½, ±½)}
//
// 1000 points per cluster, 8000 in all. The crosses in the figure are the "valid images";
// the small clouds around them are their "minor pixel perturbations".
//
// Run:  swift run -c release Chapter01-Clusters        (other data: --dataset moons)
//
// This file is the lesson; the options and their checks are in Command.swift, the figures in Figures.swift.

import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter01 {
    /// The lesson, top to bottom (the options are declared in Command.swift).
    func lesson(_ out: OutputFolder) throws {
        var rng = RandomGenerator(seed: common.seed)
        let n = common.value(perCluster, normal: 1000, quick: 250)

        // MARK: 1. Sample the data
        //
        // Each cluster is 2·n standard normals, scaled by the standard deviation and shifted
        // to its centre. Everything comes from one seeded generator: the same --seed gives
        // the same points, bit for bit, on any number of threads.
        let data: ToyDataset
        switch dataset.lowercased() {
        case "clusters": data = ToyDatasets.clusters(perCluster: n, std: std, using: &rng)
        case "moons": data = ToyDatasets.moons(count: 8 * n, std: std, using: &rng)
        case "circles": data = ToyDatasets.circles(count: 8 * n, std: std, using: &rng)
        default: data = ToyDatasets.spiral(count: 8 * n, std: std, using: &rng)
        }
        let points = data.points                                                  // [N, 2]
        print("\(data.count) samples of \(points.shape[1]) dimensions in the \(data.name) training data")
        let box = points.data.map { abs($0) }.max() ?? 0
        print(String(format: "largest |coordinate|: %.3f (the tutorial's data fills about the box ±4)", box))

        // MARK: 2. Check every component against what we asked for
        //
        // The sample mean of n points has standard error σ/√n, the sample standard deviation
        // about σ/√(2n). A z-score (estimate − target)/s.e. beyond ±4 would mean a bug, not bad luck.
        print("\ncomponent   centre            mean                sd (x, y)          z of the mean")
        var worstZ = 0.0, worstSD = 0.0
        for k in 0..<data.componentCount {
            let rows = (0..<data.count).filter { data.labels[$0] == k }
            let part = points.indexSelect(rows, axis: 0)                              // [n_k, 2]
            let mean = part.mean(axis: 0).data                                        // [2]
            let sd = part.variance(axes: [0], correction: 1).sqrt().data               // [2]
            var line = String(format: "%9d   ", k)
            if k < data.centres.count {
                let c = data.centres[k]
                let se = Double(std) / Double(rows.count).squareRoot()
                let z = [(Double(mean[0]) - Double(c.x)) / se, (Double(mean[1]) - Double(c.y)) / se]
                worstZ = max(worstZ, abs(z[0]), abs(z[1]))
                worstSD = max(worstSD, abs(Double(sd[0] - std)), abs(Double(sd[1] - std)))
                line += String(format: "(%5.2f, %5.2f)   (%7.4f, %7.4f)   (%6.4f, %6.4f)   (%5.2f, %5.2f)",
                               c.x, c.y, mean[0], mean[1], sd[0], sd[1], z[0], z[1])
            } else {
                // Swift Strings are padded in Swift: `%s` expects a C string, not a String.
                line += "(curve)".padding(toLength: 14, withPad: " ", startingAt: 0)
                line += String(format: "   (%7.4f, %7.4f)   (%6.4f, %6.4f)", mean[0], mean[1], sd[0], sd[1])
            }
            print(line)
        }
        if !data.centres.isEmpty {
            let seSD = Double(std) / (2 * Double(n)).squareRoot()
            let ok = worstZ < 4 && worstSD < 4 * seSD
            print(String(format: "check: largest |z| of a mean = %.2f, largest |sd − %.2f| = %.4f (4 s.e. = %.4f): %@",
                         worstZ, std, worstSD, 4 * seSD, ok ? "PASS" : "FAIL"))
            print(ok ? "       every cluster mean sits at its centre and every sd is \(std), within sampling error."
                     : "       a cluster is off by more than 4 standard errors: suspect the sampler, not bad luck.")
        } else {
            print("(no centres for \(data.name): the table shows each component's mean and spread)")
        }

        // MARK: 3. Draw it
        //
        // One dot per point, coloured by component; black crosses at the centres; equal aspect,
        // so the 2-D "image space" is not squashed (Figures.swift).
        let name = "\(data.name).png"
        try clustersFigure(data).writePNG(to: out.file(name))
        print("\nwrote \(out.display(name))")
    }
}
