// Chapter 5's figures: the time embedding, the sanity run's loss, the first level's feature maps.

import Diffusion
import Figures
import Foundation
import TinyTensor

extension Chapter05 {
    /// The embedding table [T, 28] as a heat map, one row per time step.
    func embeddingFigure(_ table: Tensor) -> Figure {
        let heat = Figure(rows: 1, cols: 1, panelWidth: 560, panelHeight: 420)
        heat[0, 0].title = "Sinusoidal time embedding (dim 28): sin | cos"
        heat[0, 0].xLabel = "embedding dimension i"
        heat[0, 0].yLabel = "time step t"
        heat[0, 0].heatmap((0..<Chapter05.timesteps).map { t in Array(table.data[(t * 28)..<((t + 1) * 28)]) },
                           colormap: .coolwarm, range: -1...1, colorbarLabel: "value")
        return heat
    }

    /// The training loss of every step of the sanity run, on a log scale.
    func lossFigure(_ losses: [Float]) -> Figure {
        let curve = Figure(rows: 1, cols: 1, panelWidth: 560, panelHeight: 360)
        curve[0, 0].title = "Sanity run: one fixed batch of \(batchSize), Adam lr \(lr)"
        curve[0, 0].xLabel = "step"
        curve[0, 0].yLabel = "Huber loss of ε_θ(xₜ, t) against ε"
        curve[0, 0].yScale = .log
        curve[0, 0].line((1...stepCount).map(Double.init), losses.map(Double.init), label: "training loss")
        return curve
    }

    /// The clean image x₀ and the input xₜ ([1, 28, 28] each), and the first block's output
    /// [1, C, 28, 28] as C maps, each on its own grey scale; `caption` names the image.
    func featureMapsFigure(_ firstStage: Tensor, x0: Tensor, xt: Tensor, title caption: String) -> Figure {
        let maps = normalizedMaps(firstStage)                                      // [28, 1, 28, 28]
        let features = Figure(rows: 1, cols: 3, panelWidth: 440, panelHeight: 290)
        features.title = "First level of the U-Net for one image (\(caption))"
        features[0, 0].title = "x₀, the clean image"
        features[0, 0].image(ImageGrid.image(x0, scale: 8))
        features[0, 1].title = "xₜ, the network's input"
        features[0, 1].image(ImageGrid.image(xt, scale: 8))
        features[0, 2].title = "downs.0.0: \(maps.shape[0]) feature maps"
        features[0, 2].image(ImageGrid.make(maps, nrow: 7, padding: 2, scale: 2, padColor: .white))
        return features
    }

    /// Each map rescaled to [−1, 1] on its own range, for display: [1, C, H, W] → [C, 1, H, W].
    func normalizedMaps(_ y: Tensor) -> Tensor {
        let (c, h, w) = (y.shape[1], y.shape[2], y.shape[3])
        var out = [Float](repeating: 0, count: c * h * w)
        for k in 0..<c {
            let plane = y.data[(k * h * w)..<((k + 1) * h * w)]
            let (lo, hi) = (plane.min()!, plane.max()!)
            for (i, v) in plane.enumerated() { out[k * h * w + i] = hi > lo ? 2 * (v - lo) / (hi - lo) - 1 : 0 }
        }
        return Tensor(out, shape: [c, 1, h, w])                                    // [C, 1, H, W]
    }
}
