import Foundation

/// "Nice" axis ticks and their labels.
///
/// Linear axes use steps of 1, 2 or 5 times a power of ten (the 1-2-5 rule): the smallest
/// such step that gives at most `maxCount` ticks. Tick values are computed as `k * step`
/// with an integer `k` (never by repeated addition), and labels are printed with exactly
/// the decimals the step needs, so 0.1 + 0.2 shows as "0.3", not "0.30000000000000004".
/// Very large or very small numbers switch to compact scientific notation ("2e-5", "1.5e6").
///
///     Ticks.linear(0, 1, maxCount: 6)      // [0, 0.2, 0.4, 0.6, 0.8, 1]
///     Ticks.labels(for: [0, 0.2, 0.4])     // ["0", "0.2", "0.4"]
public enum Ticks {
    /// The smallest step of the form {1, 2, 5} x 10^k with `span / step <= maxCount`.
    public static func niceStep(span: Double, maxCount: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let rough = span / Double(max(1, maxCount))
        let k = Int((log10(rough)).rounded(.down))
        for m in [1.0, 2, 5, 10] where power(m, k) >= rough * (1 - 1e-9) { return power(m, k) }
        return power(10, k)
    }

    /// `m * 10^k`, computed as a division for negative `k` so that 1e-5 is exactly 1e-5.
    static func power(_ m: Double, _ k: Int) -> Double {
        k >= 0 ? m * pow(10, Double(k)) : m / pow(10, Double(-k))
    }

    /// Tick values: every multiple of the nice step inside `[low, high]`.
    public static func linear(_ low: Double, _ high: Double, maxCount: Int) -> [Double] {
        let (lo, hi) = (min(low, high), max(low, high))
        let step = niceStep(span: hi - lo, maxCount: maxCount)
        let first = (lo / step - 1e-9).rounded(.up)
        let last = (hi / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        return stride(from: first, through: last, by: 1).map { k in
            let v = k * step
            return v == 0 ? 0 : v   // no "-0"
        }
    }

    /// Log-axis ticks: powers of ten (every n-th decade if there are many) as labelled
    /// majors, and 2...9 times each power as unlabelled minors when decades are few.
    /// Ranges narrower than one decade fall back to linear 1-2-5 ticks.
    public static func log(_ low: Double, _ high: Double, maxCount: Int) -> (major: [Double], minor: [Double]) {
        let (lo, hi) = (min(low, high), max(low, high))
        guard lo > 0, hi > lo else { return ([], []) }
        let k0 = Int((log10(lo) - 1e-9).rounded(.up)), k1 = Int((log10(hi) + 1e-9).rounded(.down))
        if k1 - k0 < 1 {
            return (linear(lo, hi, maxCount: maxCount), [])
        }
        let every = max(1, Int((Double(k1 - k0 + 1) / Double(max(1, maxCount))).rounded(.up)))
        let major = stride(from: k0, through: k1, by: every).map { power(1, $0) }
        var minor: [Double] = []
        if every == 1 {
            for k in (k0 - 1)...k1 {
                for m in 2...9 {
                    let v = power(Double(m), k)
                    if v >= lo && v <= hi { minor.append(v) }
                }
            }
        }
        return (major, minor)
    }

    /// Labels for evenly spaced ticks (the step is taken from the ticks themselves).
    public static func labels(for ticks: [Double]) -> [String] {
        guard ticks.count >= 2 else { return ticks.map { format($0, step: $0 == 0 ? 1 : abs($0)) } }
        let step = abs(ticks[1] - ticks[0])
        let largest = ticks.map(abs).max() ?? 0
        return ticks.map { format($0, step: step, largest: largest) }
    }

    /// Labels for log-axis majors: plain for 0.001...10000, scientific beyond.
    public static func logLabels(for ticks: [Double]) -> [String] {
        ticks.map { v in
            let k = log10(v)
            if abs(k - k.rounded()) < 1e-9 {
                let e = Int(k.rounded())
                if e >= -3 && e <= 4 { return format(v, step: pow(10, Double(min(e, 0)))) }
                return "1e\(e)"
            }
            return format(v, step: pow(10, (log10(v)).rounded(.down)), largest: v)
        }
    }

    /// One label: `value` printed with the decimals `step` needs; scientific notation when
    /// the largest value on the axis is at least 1e5 or below 1e-3.
    public static func format(_ value: Double, step: Double, largest: Double? = nil) -> String {
        let big = largest ?? abs(value)
        if big >= 1e5 || big < 1e-3 {
            if value == 0 { return "0" }
            // Mantissa digits: enough to tell ticks `step` apart at this exponent.
            let exponent = (log10(abs(value))).rounded(.down)
            let digits = max(0, min(6, Int((exponent - log10(step) - 1e-9).rounded(.up))))
            var s = String(format: "%.\(digits)e", value)       // e.g. "2.50e-05"
            if let e = s.firstIndex(of: "e") {
                var mantissa = String(s[..<e])
                if mantissa.contains(".") {
                    while mantissa.hasSuffix("0") { mantissa.removeLast() }
                    if mantissa.hasSuffix(".") { mantissa.removeLast() }
                }
                let power = Int(s[s.index(after: e)...]) ?? 0
                s = "\(mantissa)e\(power)"
            }
            return s
        }
        let decimals = max(0, min(10, Int((-log10(step) - 1e-9).rounded(.up))))
        let s = String(format: "%.\(decimals)f", value)
        return s == "-0" || (s.hasPrefix("-") && Double(s) == 0) ? String(s.dropFirst()) : s
    }
}
