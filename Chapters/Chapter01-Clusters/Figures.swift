// Chapter 1's figure.

import Diffusion
import Figures
import Foundation

extension Chapter01 {
    /// One dot per point, coloured by component; black crosses at the centres. Equal
    /// aspect so circles stay round: the 2-D "image space" must not look squashed.
    func clustersFigure(_ data: ToyDataset) -> Figure {
        let points = data.points                                                  // [N, 2]
        let xs = (0..<data.count).map { points.data[2 * $0] }
        let ys = (0..<data.count).map { points.data[2 * $0 + 1] }
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
        return fig
    }
}
