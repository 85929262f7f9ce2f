import Foundation
import Testing

@Suite struct Chapter01Tests {
    @Test func quickRunChecksTheClusters() throws {
        let run = try ChapterRunner.run("Chapter01-Clusters", ["--quick"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.files == ["clusters.png", "run.json"])
        #expect(run.stdout.contains("2000 samples of 2 dimensions in the clusters training data"))
        #expect(run.stdout.contains("PASS"))
        #expect(run.stdout.contains("(-4.00,  0.00)"))
    }

    @Test func otherDatasets() throws {
        for name in ["moons", "circles", "spiral"] {
            let run = try ChapterRunner.run("Chapter01-Clusters", ["--quick", "--dataset", name])
            #expect(run.status == 0)
            #expect(run.files == ["\(name).png", "run.json"].sorted())
        }
    }

    @Test func badInputIsOneSentence() throws {
        for args in [["--dataset", "swissroll"], ["--per-cluster", "1"], ["--std", "0"]] {
            let run = try ChapterRunner.run("Chapter01-Clusters", args)
            #expect(run.status != 0)
            #expect(errorLine(run).hasPrefix("Error: "), "\(args): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(args): \(run.stderr)")
        }
    }

    @Test func sameSeedSameBytesWhateverTheThreads() throws {
        let a = try ChapterRunner.run("Chapter01-Clusters", ["--quick", "--threads", "1"])
        let b = try ChapterRunner.run("Chapter01-Clusters", ["--quick", "--threads", "2"])
        #expect(ChapterRunner.sameFiles(a.output, b.output))
    }
}

@Suite struct Chapter02Tests {
    @Test func quickRunWritesEveryFigureAndTheTables() throws {
        let run = try ChapterRunner.run("Chapter02-Schedules", ["--quick"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.files == ["alpha_bar.png", "betas.png", "derived.png", "run.json", "schedules.csv", "signal_left.png", "snr.png"])
        // The linear schedule at T = 1000, t = 999: beta, alpha-bar, √ᾱ, √(1 − ᾱ), posterior variance.
        #expect(run.stdout.contains("  999  0.020000    0.000040   0.006353    0.999980   0.0200000"))
        // Signal left at T = 250 (the 2D tutorial) and T = 300 (the Annotated Diffusion).
        let rows = run.stdout.split(separator: "\n")
        #expect(rows.contains { $0.hasPrefix("250 ") && $0.contains("0.282") })
        #expect(rows.contains { $0.hasPrefix("300 ") && $0.contains("0.219") })
        let csv = try String(contentsOf: run.output.appendingPathComponent("schedules.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 4 * 1000)
    }

    @Test func shortChainAndRescale() throws {
        let run = try ChapterRunner.run("Chapter02-Schedules", ["--timesteps", "250", "--at", "0,249", "--rescale-linear"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("linear rescaled by 1000/T"))
    }

    @Test func badInputIsOneSentence() throws {
        let cases: [([String], String)] = [
            (["--timesteps", "0"], "between 1 and 100000"),
            (["--schedules", "linear,cosin"], "unknown noise schedule 'cosin'"),
            (["--beta-start", "0.1", "--beta-end", "0.01"], "0 < beta-start < beta-end < 1"),
            (["--at", "0,x"], "--at"),
        ]
        for (args, phrase) in cases {
            let run = try ChapterRunner.run("Chapter02-Schedules", args)
            #expect(run.status == 1, "\(args)")
            #expect(errorLine(run).hasPrefix("Error: ") && errorLine(run).contains(phrase), "\(args): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
            #expect(run.files.isEmpty, "\(args) should fail before writing anything")
        }
    }
}

@Suite struct Chapter03Tests {
    @Test func quickRunAgreesWithTheChainAndWritesTheDemos() throws {
        let run = try ChapterRunner.run("Chapter03-Forward", ["--quick"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.files == ["cat_forward.gif", "cat_noised.png", "forward_2d.gif", "forward_2d.png", "run.json"])
        #expect(run.stdout.contains("check: largest |z| = "))
        #expect(run.stdout.contains("PASS"))
        #expect(run.stdout.contains("photo chelsea.png: 451 x 300, centre-cropped and resized to 128 x 128"))
        #expect(run.stdout.contains("linear T = 300: sqrt(ab) at t = 50, 100, 199, 299: 0.956, 0.841, 0.509, 0.2192"))
    }

    @Test func resultsDoNotDependOnTheThreadCount() throws {
        let a = try ChapterRunner.run("Chapter03-Forward", ["--quick", "--threads", "1"])
        let b = try ChapterRunner.run("Chapter03-Forward", ["--quick", "--threads", "2"])
        #expect(a.status == 0 && b.status == 0)
        #expect(ChapterRunner.sameFiles(a.output, b.output))
        // Everything printed but the timing and the output paths is identical.
        func numbers(_ run: ChapterRun) -> [Substring] {
            run.stdout.split(separator: "\n").filter { !$0.hasPrefix("wrote ") && !$0.hasPrefix("done in ") }
        }
        #expect(numbers(a) == numbers(b))
    }

    @Test func badImageIsOneSentence() throws {
        let missing = try ChapterRunner.run("Chapter03-Forward", ["--quick", "--image", "/nonexistent/cat.png"])
        #expect(missing.status == 1)
        #expect(errorLine(missing).contains("no image file at /nonexistent/cat.png"))
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-png-\(UUID().uuidString).png")
        try Data("this is not a PNG".utf8).write(to: junk)
        defer { try? FileManager.default.removeItem(at: junk) }
        let corrupt = try ChapterRunner.run("Chapter03-Forward", ["--quick", "--image", junk.path])
        #expect(corrupt.status == 1)
        #expect(errorLine(corrupt).contains("is not a readable PNG"))
        #expect(corrupt.stderr.split(separator: "\n").count == 1)
        #expect(corrupt.files.isEmpty)
    }
}
