// Chapter 1's command line: the options, every check on them, then the lesson (Chapter01.swift).

import ArgumentParser
import ChapterSupport
import Diffusion
import Foundation

@main
struct Chapter01: ChapterCommand {
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
            throw ChapterError("--per-cluster must be at least 2 (to estimate a standard deviation), "
                               + "got \(perCluster).")
        }
        if let perCluster {
            try Bounds.check("--per-cluster", perCluster, in: 2...1_000_000,
                             "8 clusters of points are plotted one by one")
        }
        guard std > 0, std.isFinite else { throw ChapterError("--std must be a positive number, got \(std).") }
        guard ToyDatasets.names.contains(dataset.lowercased()) else {
            let names = ToyDatasets.names.joined(separator: ", ")
            throw ChapterError("unknown dataset '\(dataset)'; choose one of \(names).")
        }
        let out = try common.start("Chapter01-Clusters")
        try lesson(out)
        print(String(format: "done in %.2f s", clock.seconds))
    }
}
