import Foundation
import Testing

/// Chapter 6 end to end on a few images: `--quick` trains, checkpoints, samples and writes every
/// figure; a run stopped and resumed ends with the bytes of an uninterrupted one; bad input is
/// one sentence and exit code 1.
@Suite struct Chapter06Tests {
    static let name = "Chapter06-FashionMNIST"
    /// 4 steps of 8 images (32 images), T = 50, 4 samples.
    static let tiny = ["--quick", "--limit", "32", "--batch-size", "8", "--samples", "4"]

    @Test func quickRunWritesFiguresWeightsAndMetrics() throws {
        let run = try ChapterRunner.run(Self.name, Self.tiny)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for file in ["checkpoint.safetensors", "unet.safetensors", "loss.png", "samples.png", "denoising.gif",
                     "x0_predictions.png", "samples.safetensors", "metrics.json"] {
            #expect(run.files.contains(file), "missing \(file); wrote \(run.files)")
        }
        #expect(run.stdout.contains("trained 4 steps"))
        #expect(run.stdout.contains("√ᾱ_T = 0.00"))            // the default recipe's rescaled betas
        #expect(run.stdout.contains("classifier-FID"))

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("metrics.json")))
        let metrics = try #require(json as? [String: Any])
        let shares = try #require(metrics["classShares"] as? [String: Double])
        #expect(shares.count == 10 && Swift.abs(shares.values.reduce(0, +) - 1) < 1e-9)
        let asDrawn = try #require(metrics["classSharesAsDrawn"] as? [String: Double])
        #expect(asDrawn.count == 10 && Swift.abs(asDrawn.values.reduce(0, +) - 1) < 1e-9)
        // The default trains without flips, so its samples are judged as drawn, like the data.
        #expect(metrics["classSharesJudged"] as? String == "as drawn" && shares == asDrawn)
        #expect((metrics["classSharesEitherWay"] as? [String: Double])?.count == 10)
        #expect((metrics["samples"] as? Int) == 4)
        #expect(((metrics["classifierFID"] as? Double) ?? -1) >= 0 && ((metrics["realDataFloor"] as? Double) ?? -1) >= 0)

        // The samples file evaluates on its own (as PyTorch's samples would) to the same numbers.
        let again = try ChapterRunner.run(Self.name, ["--quick", "--evaluate", run.output.appendingPathComponent("samples.safetensors").path])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        let evaluation = try JSONSerialization.jsonObject(with: Data(contentsOf: again.output.appendingPathComponent("evaluation.json")))
        #expect(((evaluation as? [String: Any])?["classifierFID"] as? Double) == metrics["classifierFID"] as? Double)

        // Samples of a model trained on flipped images are judged as drawn or mirrored
        // (`--flip yes`; Swift's `true` is taken too).
        let flipped = try ChapterRunner.run(Self.name, ["--quick", "--flip", "true", "--evaluate",
                                                        run.output.appendingPathComponent("samples.safetensors").path])
        let judged = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: flipped.output.appendingPathComponent("evaluation.json"))) as? [String: Any])
        #expect(judged["classSharesJudged"] as? String == "as drawn or mirrored")
        #expect(judged["classShares"] as? [String: Double] == judged["classSharesEitherWay"] as? [String: Double])
        let yes = try ChapterRunner.run(Self.name, ["--quick", "--flip", "yes", "--evaluate",
                                                    run.output.appendingPathComponent("samples.safetensors").path])
        let judgedYes = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: yes.output.appendingPathComponent("evaluation.json"))) as? [String: Any])
        #expect(judgedYes["classSharesJudged"] as? String == "as drawn or mirrored")

        // An on/off option takes yes/no (or true/false, on/off) and refuses anything else, naming the choices.
        let maybe = try ChapterRunner.run(Self.name, ["--quick", "--flip", "maybe"])
        #expect(maybe.status != 0 && maybe.stderr.contains("'maybe'") && maybe.stderr.contains("yes"), "\(maybe.stderr)")
    }

    /// The other two U-Nets train, sample and evaluate; `--recipe tworesunet` is the article's
    /// (T = 1000, one t per batch, EMA), `--model mindspore` the MindSpore port's U-Net under the
    /// default recipe.
    @Test(arguments: [
        (["--model", "mindspore"], "MindSporeUnet(dim 28, dimMults [1, 2, 4]) 2992180 parameters"),
        (["--model", "tworesunet"], "TwoResUNet(dim 28, dimMults [1, 2, 4]) 3184217 parameters"),
        (["--recipe", "tworesunet"], "mse loss (one t per batch)"),
    ])
    func quickRunOfTheOtherUNets(_ arguments: [String], _ expected: String) throws {
        let run = try ChapterRunner.run(Self.name, Self.tiny + arguments)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains(expected), "\(run.stdout)")
        #expect(run.stdout.contains("trained 4 steps") && run.stdout.contains("classifier-FID"))
        for file in ["checkpoint.safetensors", "unet.safetensors", "samples.png", "metrics.json"] {
            #expect(run.files.contains(file), "missing \(file); wrote \(run.files)")
        }
        // The saved weights sample again with the recipe stored in them.
        let sampled = try ChapterRunner.run(Self.name, Self.tiny + ["--sample-only", "--checkpoint",
                                            run.output.appendingPathComponent("unet.safetensors").path])
        #expect(sampled.status == 0, "stderr: \(sampled.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: sampled.output.appendingPathComponent("samples.safetensors").path,
                                                  andPath: run.output.appendingPathComponent("samples.safetensors").path))
    }

    @Test func stoppedAndResumedRunEndsWithTheSameBytes() throws {
        let straight = try ChapterRunner.run(Self.name, Self.tiny + ["--epochs", "2"])
        #expect(straight.status == 0, "stderr: \(straight.stderr)")

        let folder = ChapterRunner.temporaryFolder("resume")
        let stopped = try ChapterRunner.run(Self.name, Self.tiny + ["--epochs", "2", "--stop-after", "3"], output: folder)
        #expect(stopped.status == 0, "stderr: \(stopped.stderr)")
        #expect(stopped.stdout.contains("at step 3; continue with --resume"))
        #expect(!stopped.files.contains("unet.safetensors"))
        let resumed = try ChapterRunner.run(Self.name, Self.tiny + ["--epochs", "2", "--resume"], output: folder)
        #expect(resumed.status == 0, "stderr: \(resumed.stderr)")
        #expect(resumed.stdout.contains("resumed"))
        for file in ["checkpoint.safetensors", "unet.safetensors", "samples.safetensors", "samples.png", "metrics.json"] {
            #expect(FileManager.default.contentsEqual(atPath: straight.output.appendingPathComponent(file).path,
                                                      andPath: folder.appendingPathComponent(file).path), "\(file)")
        }

        // Resuming with another recipe is refused, naming what differs; the checkpoint stays.
        let before = try Data(contentsOf: folder.appendingPathComponent("checkpoint.safetensors"))
        let other = try ChapterRunner.run(Self.name, Self.tiny + ["--epochs", "2", "--resume", "--lr", "0.002"], output: folder)
        #expect(other.status == 1)
        #expect(errorLine(other).contains("learningRate"), "\(other.stderr)")
        #expect(try Data(contentsOf: folder.appendingPathComponent("checkpoint.safetensors")) == before)

        // Sampling from the saved weights gives the samples of the training run.
        let sampled = try ChapterRunner.run(Self.name, Self.tiny + ["--sample-only", "--checkpoint",
                                            folder.appendingPathComponent("unet.safetensors").path])
        #expect(sampled.status == 0, "stderr: \(sampled.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: sampled.output.appendingPathComponent("samples.safetensors").path,
                                                  andPath: folder.appendingPathComponent("samples.safetensors").path))
    }

    @Test(arguments: [
        (["--limit", "4"], "fewer than one batch"),
        (["--recipe", "fancy"], "unknown --recipe"),
        (["--epochs", "0"], "--epochs must be"),
        (["--resume"], "found no"),
        (["--sample-only"], "no weights at"),
        (["--ema-decay", "1"], "--ema-decay must be"),
        (["--model", "vit"], "unknown --model 'vit'"),
        (["--model", "tworesunet", "--block", "resnet"], "made of ConvNeXt blocks"),
        (["--evaluate", "/nonexistent/samples.safetensors"], "samples.safetensors"),
    ])
    func badInputIsOneSentence(_ arguments: [String], _ expected: String) throws {
        let run = try ChapterRunner.run(Self.name, Self.tiny + arguments)
        #expect(run.status == 1, "status \(run.status): \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "expected one line, got: \(run.stderr)")
        #expect(errorLine(run).contains(expected), "\(run.stderr)")
    }

    @Test func missingDatasetSaysWhatToInstall() throws {
        let empty = ChapterRunner.temporaryFolder("no-data")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let run = try ChapterRunner.run(Self.name, Self.tiny, environment: ["FASHION_MNIST_DIR": empty.path])
        #expect(run.status == 1)
        #expect(errorLine(run).contains("dataset-fashion-mnist"), "\(run.stderr)")
    }
}
