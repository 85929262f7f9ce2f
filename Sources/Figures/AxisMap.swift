import Foundation

/// Maps data values on one axis to pixel positions (and back), linear or log10.
struct AxisMap {
    var low: Double
    var high: Double
    var scale: Axes.Scale
    /// Pixel coordinate of `low` and of `high` (for y, `low` is usually at the bottom).
    var start: Double
    var end: Double

    private func t(_ v: Double) -> Double { scale == .log ? (v > 0 ? log10(v) : -.infinity) : v }

    /// Pixel position of a data value (non-finite when a log axis gets v <= 0).
    func pixel(_ v: Double) -> Double {
        let (a, b) = (t(low), t(high))
        return start + (t(v) - a) / (b - a) * (end - start)
    }

    /// Data value at a pixel position.
    func value(_ p: Double) -> Double {
        let (a, b) = (t(low), t(high))
        let u = a + (p - start) / (end - start) * (b - a)
        return scale == .log ? pow(10, u) : u
    }

    /// Limits from data: the range plus `margin` of it on each side (in log space for log
    /// axes); a single value gets a unit-wide (or one-decade) range around it.
    static func autoLimits(_ values: [Double], scale: Axes.Scale, margin: Double) -> ClosedRange<Double> {
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard var lo = usable.min(), var hi = usable.max() else { return scale == .log ? 1...10 : 0...1 }
        if scale == .log {
            lo = log10(lo)
            hi = log10(hi)
        }
        if hi - lo < 1e-12 * max(1, abs(lo)) {
            lo -= scale == .log ? 0.5 : max(0.5, abs(lo) * 0.1)
            hi += scale == .log ? 0.5 : max(0.5, abs(hi) * 0.1)
        } else {
            let pad = (hi - lo) * margin
            lo -= pad
            hi += pad
        }
        return scale == .log ? pow(10, lo)...pow(10, hi) : lo...hi
    }

    /// Major ticks, their labels and minor ticks for this axis, at most `maxCount` majors.
    func ticks(maxCount: Int) -> (major: [Double], labels: [String], minor: [Double]) {
        if scale == .log {
            let (major, minor) = Ticks.log(low, high, maxCount: maxCount)
            let isDecades = major.count >= 2 && abs(log10(major[1] / major[0]) - log10(major[1] / major[0]).rounded()) < 1e-9
                && abs(log10(major[0]) - log10(major[0]).rounded()) < 1e-9
            return (major, isDecades ? Ticks.logLabels(for: major) : Ticks.labels(for: major), minor)
        }
        let major = Ticks.linear(low, high, maxCount: maxCount)
        return (major, Ticks.labels(for: major), [])
    }
}
