import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

// MARK: - What matters: one change at a time

/// One model per setting, each differing from the base recipe in one thing (the first two
/// are the base itself and the tutorial as published), trained and sampled with the same
/// seed; writes ablations.png (a panel of samples per setting, the metrics under each) and
/// ablations.json.
func runAblations(base: Recipe, baseSamples: Tensor, baseMetrics: Toy2DMetrics, data: ToyDataset,
                  sampleCount: Int, seed: UInt64, out: OutputFolder) throws {
    func variant(_ change: (inout Recipe) -> Void) -> Recipe {
        var r = base
        change(&r)
        return r
    }
    var tutorial = Recipe.tutorial
    tutorial.epochs = base.epochs
    let settings: [(name: String, recipe: Recipe)] = [
        ("tutorial as published", tutorial),
        ("shuffle: buffer of 1000", variant { $0.shuffle = "buffer" }),
        ("no 1000/T rescale (signal 0.28 at T)", variant { $0.rescaleBetas = false }),
        ("T = 1000, no rescale", variant { $0.rescaleBetas = false; $0.timesteps = 1000 }),
        ("cosine noise schedule", variant { $0.schedule = "cosine"; $0.rescaleBetas = false }),
        ("constant learning rate", variant { $0.learningRateSchedule = "constant" }),
        ("learning rate 1e-4", variant { $0.learningRate = 1e-4 }),
        ("learning rate 1e-2", variant { $0.learningRate = 1e-2 }),
        ("width 32", variant { $0.width = 32 }),
        ("width 64", variant { $0.width = 64 }),
        ("width 256", variant { $0.width = 256 }),
    ]
    struct Row: Encodable { var name: String; var recipe: Recipe; var metrics: Toy2DMetrics }   // no timings: same seed, same bytes
    var results: [(name: String, samples: Tensor, metrics: Toy2DMetrics)] = [("this chapter's recipe", baseSamples, baseMetrics)]
    var rows: [Row] = []
    print("\nablations: one change at a time from the recipe above (\(settings.count) models)")
    for (name, recipe) in settings {
        var rng = RandomGenerator(seed: seed)
        _ = ToyDatasets.clusters(using: &rng)          // the same random numbers as the main run from here on
        let trained = try train(recipe, points: data.points, using: &rng)
        let (x, _, _) = sample(trained, count: sampleCount, variance: ReverseVariance(rawValue: recipe.variance)!,
                               keepTrajectory: false, using: &rng)
        let m = evaluate(x, centres: data.centres, seed: seed)
        print("  " + name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "trained in %.1f s", trained.seconds))
        printMetrics(m, indent: "    ")
        results.append((name, x, m))
        rows.append(Row(name: name, recipe: recipe, metrics: m))
    }
    let fig = ablationFigure(title: "Samples per setting (one change from this chapter's recipe; seed \(seed))",
                             results: results, centres: data.centres, columns: 4)
    try fig.writePNG(to: out.file("ablations.png"))
    try out.writeJSON(rows, to: "ablations.json")
    print("wrote \(out.display("ablations.png"))\nwrote \(out.display("ablations.json"))")
}
