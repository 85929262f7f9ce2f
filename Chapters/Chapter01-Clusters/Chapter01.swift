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

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter01: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter01-Clusters",
        abstract: "The 2-D training data: eight Gaussian clusters (or moons, circles, a spiral).")

    @OptionGroup var common: ChapterOptions

    @Option(parsing: .unconditional, help: "Which data set: clusters, moons, circles or spiral.")
    var dataset = "clusters"

    @Option(parsing: .unconditional, help: "Points per cluster (the tutorial uses 1000; --quick uses 250).")
    var perCluster: Int?

    @Option(parsing: .unconditional, help: "Standard deviation of each cluster (the tutorial uses 0.1).")
    var std: Float = 0.1

    func run() throws {
        let clock = Stopwatch()
        // Mistakes in the options end in one sentence and exit code 1.
        if let perCluster, perCluster < 2 {
            throw ChapterError("--per-cluster must be at least 2 (to estimate a standard deviation), got \(perCluster).")
        }
        if let perCluster { try Bounds.check("--per-cluster", perCluster, in: 2...1_000_000, "8 clusters of points are plotted one by one") }
        guard std > 0, std.isFinite else { throw ChapterError("--std must be a positive number, got \(std).") }
        guard ToyDatasets.names.contains(dataset.lowercased()) else {
            throw ChapterError("unknown dataset '\(dataset)'; choose one of \(ToyDatasets.names.joined(separator: ", ")).")
        }
        let out = try common.start("Chapter01-Clusters")
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
        let xs = (0..<data.count).map { points.data[2 * $0] }
        let ys = (0..<data.count).map { points.data[2 * $0 + 1] }
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
        // One dot per point, coloured by component; black crosses at the centres. Equal
        // aspect so circles stay round: the 2-D "image space" must not look squashed.
        let fig = Figure(rows: 1, cols: 1, panelWidth: 640, panelHeight: 640)
        let ax = fig[0, 0]
        ax.title = data.centres.isEmpty
            ? "\(data.name): \(data.count) points, noise sd \(std)"
            : "\(data.componentCount) Gaussian clusters, \(data.count) points, sd \(std)"
        ax.xLabel = "x1 (first 'pixel')"
        ax.yLabel = "x2 (second 'pixel')"
        ax.equalAspect = true
        ax.xLimits = -5...5
        ax.yLimits = -5...5
        ax.scatter(xs, ys, colors: data.labels.map { Color.cluster($0) }, size: 1.6, alpha: 0.5)
        if !data.centres.isEmpty {
            ax.markers(data.centres.map(\.x), data.centres.map(\.y), marker: .cross, color: .black,
                       size: 12, width: 2, label: "centres")
            ax.legend = .upperRight
        }
        let name = "\(data.name).png"
        try fig.writePNG(to: out.file(name))
        print("\nwrote \(out.display(name))")
        print(String(format: "done in %.2f s", clock.seconds))
    }
}
