// Chapter 2's command line: the options, every check on them, then the lesson (Chapter02.swift).

import ArgumentParser
import ChapterSupport
import Diffusion
import Foundation

@main
struct Chapter02: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter02-Schedules",
        abstract: "Linear, quadratic, cosine and sigmoid beta schedules and every derived array.")

    @OptionGroup var common: ChapterOptions

    @Option(parsing: .unconditional, help: "Number of diffusion steps T (the DDPM paper uses 1000).")
    var timesteps = 1000

    @Option(parsing: .unconditional, help: "First beta (the DDPM paper: 1e-4).")
    var betaStart = 1e-4

    @Option(parsing: .unconditional, help: "Last beta (the DDPM paper: 0.02).")
    var betaEnd = 0.02

    @Option(parsing: .unconditional, help: "Comma-separated schedules to compare.")
    var schedules = "linear,quadratic,cosine,sigmoid"

    @Flag(help: "Scale the linear betas by 1000/T (lucidrains' fix for short chains).")
    var rescaleLinear = false

    @Option(parsing: .unconditional, help: "Comma-separated timesteps (0-based) for the printed table.")
    var at = "0,50,100,250,500,750,999"

    @Option(parsing: .unconditional, help: "Comma-separated chain lengths T for the signal-left table.")
    var compareTimesteps = "50,200,250,300,1000"

    func run() throws {
        let clock = Stopwatch()
        try Bounds.check("--timesteps", timesteps, in: 1...100_000, "every array has T entries and the CSV 4·T rows")
        let kinds = try schedules.split(separator: ",").map {
            try BetaSchedule(name: String($0).trimmingCharacters(in: .whitespaces))
        }
        guard !kinds.isEmpty else { throw ChapterError("--schedules is empty; name at least one, e.g. linear.") }
        // Building the schedules checks the betas (e.g. a β_end of 1 or more) before any output;
        // the lesson builds them again, in its section 1.
        for kind in kinds {
            _ = try NoiseSchedule(kind, timesteps: timesteps, betaStart: betaStart, betaEnd: betaEnd,
                                  rescaleLinear: rescaleLinear)
        }
        let rows = try wholeNumbers(at, option: "--at").filter { $0 < timesteps }
        guard !rows.isEmpty else {
            throw ChapterError("--at has no timestep below T = \(timesteps); pass values in 0..<\(timesteps).")
        }
        let lengths = try wholeNumbers(compareTimesteps, option: "--compare-timesteps")
        for T in lengths {
            try Bounds.check("each --compare-timesteps value", T, in: 0...100_000)
        }
        let out = try common.start("Chapter02-Schedules")
        try lesson(out, kinds: kinds, rows: rows, lengths: lengths.filter { $0 >= 1 })
        print(String(format: "done in %.2f s", clock.seconds))
    }

    /// "0,50,100" → [0, 50, 100]; anything else is one clear sentence.
    func wholeNumbers(_ text: String, option: String) throws -> [Int] {
        try parseList(text, option: option, expects: "whole numbers ≥ 0", example: "0,50,100", maxCount: 100) {
            Int($0).flatMap { $0 >= 0 ? $0 : nil }
        }
    }

    /// Section 5: every array of every schedule as CSV (one row per schedule and t), for your own plots.
    func saveCSV(_ built: [NoiseSchedule], _ out: OutputFolder) throws {
        var csv = "schedule,t," + built[0].namedArrays.map(\.name).joined(separator: ",") + "\n"
        for s in built {
            let arrays = s.namedArrays.map(\.values.data)
            for t in 0..<timesteps {
                csv += "\(s.kind.rawValue),\(t)," + arrays.map { String(format: "%.9g", $0[t]) }.joined(separator: ",")
                    + "\n"
            }
        }
        try out.write(csv, to: "schedules.csv")
        print("wrote \(out.display("schedules.csv"))")
    }
}
