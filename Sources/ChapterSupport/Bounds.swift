import Foundation

/// Bounds for size options: one sentence with the allowed range and what to do.
public enum Bounds {
    /// Throws unless `value` of `option` lies in `range`; `why` (optional) explains the limit.
    public static func check<T: Comparable>(_ option: String, _ value: T, in range: ClosedRange<T>, _ why: String = "") throws {
        guard range.contains(value) else {
            throw ChapterError("\(option) must be between \(range.lowerBound) and \(range.upperBound), got \(value)\(why.isEmpty ? "" : " (\(why))").")
        }
    }

    /// Memory this machine may give one run: half the physical memory, at most 8 GB.
    public static var memoryBudget: Double { min(Double(ProcessInfo.processInfo.physicalMemory) / 2, 8e9) }

    /// Throws when `bytes`, the estimated memory of `what`, exceeds the budget; `advice` says
    /// which option to lower.
    public static func memory(_ bytes: Double, for what: String, _ advice: String) throws {
        guard bytes <= memoryBudget else {
            throw ChapterError(String(format: "%@ would need about %.1f GB of memory, more than the %.1f GB this run may use; %@.",
                                      what, bytes / 1e9, memoryBudget / 1e9, advice))
        }
    }
}
