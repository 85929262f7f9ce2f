import Foundation
import Testing

/// Chapter 7 on a tiny Chapter 6 model (`--quick`: T = 50, 4 training steps): every figure and
/// the metrics are written, the same seed gives the same bytes, bad input is one sentence.
@Suite struct Chapter07Tests {
    static let name = "Chapter07-FastSampling"

    @Test func quickRunOnATinyModelWritesEverything() throws {
        let trained = try ChapterRunner.run("Chapter06-FashionMNIST", Chapter06Tests.tiny)
        #expect(trained.status == 0, "stderr: \(trained.stderr)")
        let weights = trained.output.appendingPathComponent("unet.safetensors").path
        let run = try ChapterRunner.run(Self.name, ["--quick", "--checkpoint", weights, "--threads", "2"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for file in ["same_noise.png", "quality.png", "interpolation.png", "interpolation.gif", "inversion.png", "metrics.json"] {
            #expect(run.files.contains(file), "missing \(file); wrote \(run.files)")
        }
        #expect(run.stdout.contains("DDPM (η=1, every step)") && run.stdout.contains(" 50 steps   FID"))
        #expect(run.stdout.contains("inversion with 4 steps: mean |x0 - regenerated| = "))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("metrics.json")))
        let results = try #require((json as? [String: Any])?["results"] as? [[String: Any]])
        #expect(results.count == 1 + 4 * 2)                                 // DDPM, then 4 settings × steps 2 and 4
        // η = 0 is deterministic: a second run writes the same figures and numbers.
        let again = try ChapterRunner.run(Self.name, ["--quick", "--checkpoint", weights, "--threads", "1"])
        #expect(ChapterRunner.sameFiles(run.output, again.output))
    }

    @Test func badInputEndsInOneSentence() throws {
        for args in [["--quick", "--checkpoint", "/nonexistent.safetensors"], ["--quick", "--steps", "0"],
                     ["--quick", "--steps", "ten"], ["--quick", "--samples", "1"]] {
            let run = try ChapterRunner.run(Self.name, args)
            #expect(run.status == 1, "\(args)")
            #expect(errorLine(run).hasPrefix("Error: "), "\(args): \(run.stderr)")
        }
    }
}
