import ArgumentParser
import Foundation

/// The options of every long training run: `--resume`, `--stop-after`, `--checkpoint-every`,
/// `--sample-every`. Include them with `@OptionGroup var training: TrainingOptions`.
public struct TrainingOptions: ParsableArguments {
    @Flag(help: "Continue the run saved in <output>/checkpoint.safetensors.")
    public var resume = false
    @Option(help: "Stop (and save a checkpoint) after N steps of this process, as if interrupted.")
    public var stopAfter: Int?
    @Option(help: "Save a resumable checkpoint every N steps (and on Ctrl-C).")
    public var checkpointEvery = 200
    @Option(help: "Save a grid of samples every N steps while training (the post's save_and_sample_every; 0 = never).")
    public var sampleEvery: Int?

    public init() {}

    /// One sentence for a value out of range (called before any work).
    public func check() throws {
        try Bounds.check("--checkpoint-every", checkpointEvery, in: 1...Int.max)
        if let stopAfter { try Bounds.check("--stop-after", stopAfter, in: 1...Int.max) }
        if let sampleEvery { try Bounds.check("--sample-every", sampleEvery, in: 0...Int.max, "0 = never") }
    }
}

/// Everything a long training run needs around its loop body, so that the chapter shows only
/// the body (Algorithm 1):
///
///     let session = TrainingSession(training, out: out, totalSteps: trainer.totalSteps, step: trainer.step)
///     while !trainer.finished {
///         ... one optimizer step ...
///         try session.after(step: trainer.step, "loss 0.0412")
///     }
///     session.finish()
///
/// After each step it redraws the progress line, calls `sampleGrid` every `--sample-every`
/// steps, calls `saveCheckpoint` every `--checkpoint-every` steps and at the end, and on Ctrl-C
/// or SIGTERM (or after `--stop-after` steps of this process) saves a checkpoint, says how to
/// continue, and exits with 130, 143 or 0. The checkpoint is `<output>/checkpoint.safetensors`.
public final class TrainingSession {
    public let options: TrainingOptions
    public let out: OutputFolder
    public let totalSteps: Int
    /// Saves a resumable checkpoint to the URL (atomically).
    public var saveCheckpoint: ((URL) throws -> Void)?
    /// Writes a grid of samples for the step given.
    public var sampleGrid: ((Int) throws -> Void)?
    let progress: ProgressLine
    let sampleEvery: Int
    var stepsHere = 0

    /// The checkpoint file of this output folder.
    public var checkpointFile: URL { out.file(TrainingSession.checkpointName) }
    public static let checkpointName = "checkpoint.safetensors"

    /// - Parameters:
    ///   - step: the steps already taken (a resumed run starts there).
    ///   - defaultSampleEvery: the grid interval when `--sample-every` is not given.
    public init(_ options: TrainingOptions, out: OutputFolder, totalSteps: Int, step: Int, label: String = "step",
                defaultSampleEvery: Int = 0) {
        self.options = options
        self.out = out
        self.totalSteps = totalSteps
        sampleEvery = options.sampleEvery ?? defaultSampleEvery
        progress = ProgressLine(total: totalSteps, label: label, startingAt: step)
        Interruption.stopPolitely()                  // Ctrl-C while training: save, then stop
    }

    /// Whether `--resume` asks to continue, after checking that there is something to continue.
    public static func wantsResume(_ options: TrainingOptions, out: OutputFolder) throws -> Bool {
        guard options.resume else { return false }
        guard FileManager.default.fileExists(atPath: out.path(checkpointName).path) else {
            throw ChapterError("--resume found no \(out.display(checkpointName)); start without --resume "
                               + "(or pass the --output of the run to continue).")
        }
        return true
    }

    /// After step `step` (1-based count of steps done): progress, grids, checkpoints, interruption.
    public func after(step: Int, _ fields: String) throws {
        stepsHere += 1
        progress.update(step, fields)
        let finished = step >= totalSteps
        if sampleEvery > 0 && step % sampleEvery == 0 && !finished, let sampleGrid {
            progress.finish()
            try sampleGrid(step)
        }
        let interrupted = Interruption.requested != nil || stepsHere == options.stopAfter
        if let saveCheckpoint, interrupted || step % options.checkpointEvery == 0 || finished {
            try saveCheckpoint(checkpointFile)
        }
        if interrupted {
            progress.finish()
            if saveCheckpoint != nil {
                print("saved \(out.display(TrainingSession.checkpointName)) at step \(step); continue with --resume")
            }
            if let signal = Interruption.requested { throw ExitCode(128 + signal) }
            throw ExitCode.success
        }
    }

    /// Ends the progress line; from here on Ctrl-C ends the run at once.
    public func finish() {
        progress.finish()
        Interruption.stopAtOnce()
    }
}
