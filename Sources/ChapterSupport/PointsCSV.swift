import Foundation
import TinyTensor

/// Points in the plane as CSV text: a header `x,y`, then one row per point, six decimals
/// (Chapters 4 and 9 write their samples this way, for a spreadsheet or numpy.loadtxt).
public func pointsCSV(_ points: Tensor) -> String {
    precondition(points.rank == 2 && points.shape[1] == 2, "pointsCSV: expected points [N, 2], got \(points.shape)")
    var text = "x,y\n"
    for i in 0..<points.shape[0] {
        text += String(format: "%.6f,%.6f\n", points.data[2 * i], points.data[2 * i + 1])
    }
    return text
}

extension OutputFolder {
    /// Writes points [N, 2] as `name` (`pointsCSV`), atomically like every file of the folder.
    public func writePointsCSV(_ points: Tensor, to name: String) throws {
        try write(pointsCSV(points), to: name)
    }
}
