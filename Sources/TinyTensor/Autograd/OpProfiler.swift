import Foundation

/// An optional table of where the time goes, per op name, in the forward and the backward pass.
/// Off by default (one Bool test per op when off).
///
///     OpProfiler.isEnabled = true
///     OpProfiler.reset()
///     OpProfiler.mark(); let loss = model(x).sum(); loss.backward()
///     for row in OpProfiler.rows() { print(row.name, row.seconds) }   // "conv2d", "conv2d backward", ...
///
/// Forward: every op ends in `Tensor.record`, so the time from the previous `record` (or the
/// last `mark()`) to this one is charged to this op — its own work plus the little glue code
/// before it. Call `mark()` before a forward pass so setup work is not charged to its first op.
/// Backward: the time of each op's backward closure, under "<op> backward".
public enum OpProfiler {
    public static var isEnabled = false
    nonisolated(unsafe) private static var last: UInt64 = 0
    nonisolated(unsafe) private static var table: [String: (calls: Int, nanoseconds: UInt64)] = [:]

    /// Forgets everything measured so far.
    public static func reset() { table = [:]; mark() }

    /// Restarts the forward clock (the next op is charged only from here).
    public static func mark() { last = DispatchTime.now().uptimeNanoseconds }

    /// Adds `nanoseconds` to `name` (also usable for work outside autograd, e.g. "adam").
    public static func add(_ name: String, nanoseconds: UInt64) {
        let entry = table[name] ?? (0, 0)
        table[name] = (entry.calls + 1, entry.nanoseconds + nanoseconds)
    }

    /// Called by `Tensor.record`.
    static func forward(_ op: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        add(op, nanoseconds: now - last)
        last = now
    }

    /// Every name with its call count and total seconds, slowest first.
    public static func rows() -> [(name: String, calls: Int, seconds: Double)] {
        table.map { ($0.key, $0.value.calls, Double($0.value.nanoseconds) * 1e-9) }.sorted { $0.seconds > $1.seconds }
    }
}
