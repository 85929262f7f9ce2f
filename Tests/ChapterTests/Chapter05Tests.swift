import Foundation
import Testing

// Chapter05-UNet end to end: the built executable with --quick, via Foundation.Process.

@Suite struct Chapter05Tests {
    @Test func quickRunWritesFiguresAndACheckpoint() throws {
        let run = try ChapterRunner.run("Chapter05-UNet", ["--quick"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.files == ["feature_maps.png", "run.json", "sanity_loss.png", "summary.json", "time_embedding.png", "unet.safetensors"])
        #expect(run.stdout.contains("2,020,257 parameters — equal"))
        #expect(run.stdout.contains("mid_attn           [4, 112, 7, 7]"))
        #expect(run.stdout.contains("falling, as it must"))
        #expect(run.stdout.contains("(identical)"))
        let checkpoint = run.output.appendingPathComponent("unet.safetensors").path
        let size = try FileManager.default.attributesOfItem(atPath: checkpoint)[.size] as? Int
        #expect((size ?? 0) > 4 * 2_020_257)
    }

    @Test func convNextVariantRuns() throws {
        let run = try ChapterRunner.run("Chapter05-UNet", ["--quick", "--block", "convnext", "--steps", "3"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("block: convnext"))
    }

    /// The MindSpore port's U-Net and TwoResUNet: PyTorch's parameter count, a checkpoint that
    /// reloads to the same loss.
    @Test(arguments: [("mindspore", "2,992,180"), ("tworesunet", "3,184,217")])
    func otherUNetsRun(_ model: String, _ parameters: String) throws {
        let run = try ChapterRunner.run("Chapter05-UNet", ["--quick", "--model", model, "--steps", "3"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("\(parameters) parameters — equal"), "\(run.stdout)")
        #expect(run.stdout.contains("18×28×28 → ") == (model == "mindspore"))    // init_dim = 28 // 3 · 2
        #expect(run.stdout.contains("1×28×28\n"))
        #expect(run.stdout.contains("(identical)"))
    }

    @Test func sameSeedSameBytesWhateverTheThreads() throws {
        let a = try ChapterRunner.run("Chapter05-UNet", ["--quick", "--steps", "3", "--threads", "1"])
        let b = try ChapterRunner.run("Chapter05-UNet", ["--quick", "--steps", "3", "--threads", "2"])
        #expect(ChapterRunner.sameFiles(a.output, b.output))
    }

    @Test func badInputEndsInOneSentence() throws {
        for args in [["--bogus"], ["--block", "vit"], ["--lr", "-1"], ["--steps", "1"], ["--model", "vit"],
                     ["--model", "mindspore", "--block", "convnext"], ["--dim-mults", "1,2,x"],
                     ["--level-attention", "sparse"], ["--model", "tworesunet", "--level-attention", "full"]] {
            let run = try ChapterRunner.run("Chapter05-UNet", args)
            #expect(run.status != 0, "\(args)")
            #expect(errorLine(run).hasPrefix("Error: "), "\(args): \(run.stderr)")
        }
        // Exercise 4: a third halving of 28×28 is refused before anything is trained.
        let deep = try ChapterRunner.run("Chapter05-UNet", ["--quick", "--dim-mults", "1,2,4,8"])
        #expect(deep.status == 1)
        #expect(errorLine(deep).contains("cannot be halved 3 times"), "\(deep.stderr)")
        let missing = try ChapterRunner.run("Chapter05-UNet", ["--quick"], environment: ["FASHION_MNIST_DIR": "/nonexistent"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("sudo apt-get install dataset-fashion-mnist"))
        #expect(missing.files.isEmpty)
    }
}
