import Foundation

/// A learning rate as a function of the step (0, 1, 2, ...), set on the optimizer before
/// each `step()`:
///
///     let schedule = LearningRateSchedule.cosine(peak: 1e-3, floor: 1e-5, steps: 10_000)
///                        .withWarmup(steps: 500)
///     for step in 0..<10_000 { opt.lr = schedule(step); ...; opt.step() }
///
/// Schedules compose: `warmup` wraps any other schedule.
public indirect enum LearningRateSchedule: Equatable {
    /// lr(s) = value.
    case constant(Float)
    /// Cosine decay from `peak` to `floor` over `steps` steps (Loshchilov & Hutter 2017,
    /// SGDR without restarts; `CosineAnnealingLR` with η_min = floor):
    /// lr(s) = floor + ½(peak − floor)(1 + cos(π·min(s, steps)/steps)); it stays at `floor` after.
    case cosine(peak: Float, floor: Float, steps: Int)
    /// Linear warm-up over `steps` steps, then `then` (which starts at its own step 0):
    /// lr(s) = then(0)·(s + 1)/steps for s < steps, and then(s − steps) after.
    case warmup(steps: Int, then: LearningRateSchedule)

    /// The learning rate at step `step` (counted from 0).
    public func callAsFunction(_ step: Int) -> Float {
        switch self {
        case .constant(let value):
            return value
        case let .cosine(peak, floor, steps):
            guard steps > 0 else { return floor }
            let progress = Double(Swift.min(Swift.max(step, 0), steps)) / Double(steps)
            return floor + Float(0.5 * Double(peak - floor) * (1 + Foundation.cos(Double.pi * progress)))
        case let .warmup(steps, then):
            if step < steps { return then(0) * Float(step + 1) / Float(steps) }
            return then(step - steps)
        }
    }

    /// This schedule preceded by a linear warm-up of `steps` steps (none if `steps` is 0).
    public func withWarmup(steps: Int) -> LearningRateSchedule {
        steps > 0 ? .warmup(steps: steps, then: self) : self
    }
}
