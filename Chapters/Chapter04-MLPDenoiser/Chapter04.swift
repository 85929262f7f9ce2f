import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter04: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter04-MLPDenoiser",
        abstract: "Train the 2D tutorial's MLP noise predictor and sample with the reverse process.")

    @OptionGroup var common: ChapterOptions
    @Option var timesteps = 250
    @Option var schedule = "linear"
    @Flag var rescaleBetas = false
    @Option var epochs = 200
    @Option var batchSize = 32
    @Option var lr: Float = 1e-3
    @Option var lrSchedule = "constant"
    @Option var shuffle = "full"
    @Option var width = 128
    @Option var emaDecay: Float = 0
    @Option var variance = "posterior"
    @Option var seeds = 1

    mutating func run() throws {
        if let t = common.threads { Parallel.threadCount = t }
        for s in 0..<seeds {
            let seed = common.seed + UInt64(s)
            var recipe = Recipe()
            recipe.timesteps = timesteps; recipe.schedule = schedule; recipe.rescaleBetas = rescaleBetas
            recipe.epochs = epochs; recipe.batchSize = batchSize; recipe.learningRate = lr
            recipe.learningRateSchedule = lrSchedule; recipe.shuffle = shuffle; recipe.width = width
            recipe.emaDecay = emaDecay; recipe.variance = variance
            var rng = RandomGenerator(seed: seed)
            let data = ToyDatasets.clusters(using: &rng)
            let trained = try train(recipe, points: data.points, using: &rng)
            let (x, _, sec) = sample(trained, count: 1000, variance: ReverseVariance(rawValue: variance)!, keepTrajectory: false, using: &rng)
            var r1 = RandomGenerator(seed: seed + 1000)
            let ref = ToyDatasets.clusters(using: &r1).points
            let draws = (0..<5).map { _ in Toy2DMetrics.mixtureSample(count: 1000, centres: data.centres, std: 0.1, using: &r1) }
            let m = Toy2DMetrics.evaluate(samples: x, centres: data.centres, reference: ref, realDraws: draws)
            print(String(format: "seed %d train %.2fs (%.3f ms/step) sample %.3fs  loss(last epoch) %.4f  within %.3f  ED %.4f floor %.4f  shares %@",
                         seed, trained.seconds, trained.seconds / Double(trained.steps) * 1000, sec,
                         trained.losses.suffix(250).reduce(0, +) / 250, m.withinRadius, m.energyDistance, m.energyDistanceFloor,
                         m.shares.map { String(format: "%.3f", $0) }.joined(separator: " ")))
        }
    }
}
