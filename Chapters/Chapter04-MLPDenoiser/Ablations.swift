import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - What matters: one change at a time, on several seeds

/// One model per setting and seed, each setting differing from the base recipe in one thing
/// (the first two are the base itself and the tutorial as published). A run with seed s draws
/// exactly the random numbers of the main run with `--seed s` (data, training, the noise probe,
/// sampling), so the base row's first seed repeats the main run's numbers.
///
/// One seed decides little: the energy distance of a good sampler sits at the score of real data
/// and moves by as much between seeds as between settings. So every setting is trained on each
/// of `seeds` and reported as mean (min–max) beside the range of real data's; writes ablations.png
/// (the first seed's samples per setting) and ablations.json (every seed's metrics).
func runAblations(base: TrainingRecipe, sampleCount: Int, seeds: [UInt64], out: OutputFolder) throws {
    func variant(_ change: (inout TrainingRecipe) -> Void) -> TrainingRecipe {
        var r = base
        change(&r)
        r.learningRateFloor = r.learningRate / 100                // a cosine decay ends at 1 % of the peak
        return r
    }
    var tutorial = TrainingRecipe.toyTutorial
    tutorial.epochs = base.epochs
    tutorial.learningRateFloor = tutorial.learningRate / 100
    let settings: [(name: String, recipe: TrainingRecipe)] = [
        ("this chapter's recipe", base),
        ("tutorial as published", tutorial),
        ("tutorial + full shuffle", { var r = tutorial; r.shuffle = .full; return r }()),
        ("shuffle: buffer of 1000", variant { $0.shuffle = .buffer; $0.bufferSize = 1000 }),
        ("no 1000/T rescale (signal 0.28 at T)", variant { $0.rescaleBetas = false }),
        ("T = 1000, no rescale", variant { $0.rescaleBetas = false; $0.timesteps = 1000 }),
        ("cosine noise schedule", variant { $0.schedule = .cosine; $0.rescaleBetas = false }),
        ("constant learning rate", variant { $0.learningRateSchedule = .constant }),
        ("learning rate 1e-4", variant { $0.learningRate = 1e-4 }),
        ("learning rate 1e-2", variant { $0.learningRate = 1e-2 }),
        ("width 32", variant { $0.width = 32 }),
        ("width 64", variant { $0.width = 64 }),
        ("width 256", variant { $0.width = 256 }),
    ]
    // No timings in the JSON: the same seeds write the same bytes.
    struct Row: Encodable { var name: String; var recipe: TrainingRecipe; var seeds: [UInt64]; var metrics: [Toy2DMetrics] }
    var panels: [(name: String, samples: Tensor, metrics: [Toy2DMetrics])] = []
    var rows: [Row] = []
    print("\nablations: one change at a time, \(settings.count) settings × seeds \(seeds.map(String.init).joined(separator: ", "))")
    print("  setting                                  within 0.5 of a centre      energy distance (real data)          shares")
    for (name, recipe) in settings {
        var metrics: [Toy2DMetrics] = [], first: Tensor?
        for seed in seeds {
            var rng = RandomGenerator(seed: seed)
            let data = ToyDatasets.clusters(using: &rng)                                  // [8000, 2]
            let model = recipe.makeModel(dataShape: data.points.shape, rng: &rng)       // as the main run does
            let trainer = try reported { try DiffusionTrainer(recipe: recipe, model: model, dataset: data, rng: rng, seed: seed) }
            while !trainer.finished { try reported { try trainer.trainStep() } }
            rng = trainer.rng
            _ = drawProbe(data, timesteps: recipe.timesteps, using: &rng)
            let xT = Tensor.randn([sampleCount, 2], using: &rng)                         // [N, 2]
            let sampler = DDPMSampler(trainer.diffusion, variance: recipe.variance)
            let x = trainer.withSamplingWeights { sampler.sample(trainer.noisePredictor, from: xT, using: &rng) }   // [N, 2]
            metrics.append(evaluate(x, centres: data.centres, seed: seed))
            if first == nil { first = x }
        }
        let s = AblationSummary(metrics)
        print("  " + name.padding(toLength: 41, withPad: " ", startingAt: 0) + s.within.padding(toLength: 28, withPad: " ", startingAt: 0)
              + s.energy.padding(toLength: 37, withPad: " ", startingAt: 0) + s.shares)
        panels.append((name, first!, metrics))
        rows.append(Row(name: name, recipe: recipe, seeds: seeds, metrics: metrics))
    }
    let seedList = seeds.map(String.init).joined(separator: ", ")
    let fig = ablationFigure(title: "Samples per setting, seed \(seeds[0]) (one change from this chapter's recipe; numbers: mean over seeds \(seedList))",
                             results: panels, centres: ToyDatasets.clusterCentres(), columns: 4)
    try fig.writePNG(to: out.file("ablations.png"))
    try out.writeJSON(rows, to: "ablations.json")
    print("wrote \(out.display("ablations.png"))\nwrote \(out.display("ablations.json"))")
}

/// Mean (min–max) over seeds of the numbers one setting scored, as the table prints them.
struct AblationSummary {
    let metrics: [Toy2DMetrics]
    init(_ metrics: [Toy2DMetrics]) { self.metrics = metrics }

    static func spread(_ v: [Double], _ format: String) -> String {
        let mean = v.reduce(0, +) / Double(max(1, v.count))
        guard v.count > 1 else { return String(format: format, mean) }
        return String(format: "\(format) (\(format)–\(format))", mean, v.min()!, v.max()!)
    }
    var within: String { AblationSummary.spread(metrics.map { 100 * $0.withinRadius }, "%.1f%%") }
    var energy: String {
        let realData = metrics.map(\.energyDistanceFloor)
        return AblationSummary.spread(metrics.map(\.energyDistance), "%.3f")
            + String(format: " (%.3f–%.3f)", realData.min() ?? 0, realData.max() ?? 0)
    }
    var shares: String {
        let all = metrics.flatMap { $0.shares.map { 100 * $0 } }
        return String(format: "%.1f–%.1f%%", all.min() ?? 0, all.max() ?? 0)
    }
}
