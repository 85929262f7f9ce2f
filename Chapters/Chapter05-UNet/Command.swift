// Chapter 5's command line: the options, every check on them, the Fashion-MNIST images, then
// the lesson (Chapter05.swift); and the small functions that turn failures into one sentence
// and write summary.json.

import ArgumentParser
import ChapterSupport
import Diffusion
import Foundation
import TinyTensor

@main
struct Chapter05: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter05-UNet",
        abstract: "The Annotated U-Net block by block: summary, time embedding, feature maps, a one-batch sanity run.")

    @OptionGroup var common: ChapterOptions

    @Option(parsing: .unconditional, help: "Images in the fixed batch of the sanity run (--quick uses 4).")
    var batch: Int?

    @Option(parsing: .unconditional, help: "Adam steps on that batch (--quick uses 6).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Learning rate of Adam (the Annotated blog uses 1e-3).")
    var lr: Float = 1e-3

    @Option(name: .customLong("model"), parsing: .unconditional,
            help: ArgumentHelp("Which U-Net: annotated (the Annotated blog), mindspore (its MindSpore port) "
                + "or tworesunet (the TwoResUNet article)."))
    var modelChoice = "annotated"

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Block of the annotated U-Net: resnet (the Annotated blog) or convnext "
                + "(ConvNeXt blocks and transposed-conv upsampling in the same skeleton; "
                + "not the MindSpore port's U-Net, which is --model mindspore)."))
    var block = "resnet"

    @Option(parsing: .unconditional, help: "Width multipliers of the levels, comma-separated (the post: 1,2,4).")
    var dimMults = "1,2,4"

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Attention at the annotated U-Net's levels: linear (the post's) or full "
                + "(softmax attention everywhere, an experiment)."))
    var levelAttention = "linear"

    /// Images in the fixed batch: --batch, else 8 (--quick: 4).
    var batchSize: Int { common.value(batch, normal: 8, quick: 4) }
    /// Adam steps of the sanity run: --steps, else 30 (--quick: 6).
    var stepCount: Int { common.value(steps, normal: 30, quick: 6) }

    func run() throws {
        let clock = Stopwatch()
        guard batchSize >= 1 else { throw ChapterError("--batch must be at least 1, got \(batchSize).") }
        guard stepCount >= 2 else {
            throw ChapterError("--steps must be at least 2 to see the loss move, got \(stepCount).")
        }
        // Backpropagation keeps every activation of the U-Net: about 30 MB per image.
        try Bounds.check("--batch", batchSize, in: 1...256,
                         "the sanity run keeps every activation, about 30 MB per image")
        try Bounds.memory(Double(batchSize) * 30e6, for: "a batch of \(batchSize) images", "lower --batch")
        try Bounds.check("--steps", stepCount, in: 2...100_000)
        guard lr > 0, lr.isFinite else { throw ChapterError("--lr must be a positive number, got \(lr).") }
        guard ["resnet", "convnext"].contains(block) else {
            throw ChapterError("unknown --block '\(block)'; choose resnet or convnext.")
        }
        let architecture: UNetArchitecture
        do { architecture = try UNetArchitecture(named: modelChoice) } catch { throw ChapterError("\(error)") }
        guard architecture == .annotated || block == "resnet" else {
            throw ChapterError("--block applies to --model annotated only; "
                               + "the \(modelChoice) U-Net is made of ConvNeXt blocks already.")
        }
        guard ["linear", "full"].contains(levelAttention),
              architecture == .annotated || levelAttention == "linear" else {
            throw ChapterError("--level-attention takes linear or full, and applies to --model annotated only.")
        }
        let mults = dimMults.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !mults.isEmpty, mults.count == dimMults.split(separator: ",").count, mults.count <= 6,
              mults.allSatisfy({ (1...16).contains($0) }) else {
            throw ChapterError("--dim-mults expects 1 to 6 comma-separated whole numbers from 1 to 16, e.g. 1,2,4; "
                               + "got '\(dimMults)'.")
        }
        let out = try common.start("Chapter05-UNet")   // line-buffered stdout; the folder appears at the first write
        // The images come from Debian's dataset-fashion-mnist; without it, stop before writing anything.
        // (They are read after `start`, as before this file was split: a bad --output is still the
        // error reported first.)
        let data: FashionMNIST
        do { data = try FashionMNIST(split: .train, limit: batchSize) } catch { throw ChapterError("\(error)") }
        guard data.count >= batchSize else {
            throw ChapterError("the Fashion-MNIST training file holds only \(data.count) images, fewer than "
                               + "--batch \(batchSize); lower --batch to at most \(data.count).")
        }
        try lesson(out, data: data, architecture: architecture, mults: mults)
        print(String(format: "\nChapter05-UNet finished in %.1f s", clock.seconds))
    }

    /// Throws one sentence unless a 28 × 28 image can go down and up `model`'s U (each level
    /// but the last halves the side). It needs the model, so the lesson calls it once it is
    /// built, before anything is trained or written.
    func checkImageSize(_ model: any DenoisingUNet) throws {
        do { try model.checkImageSize(height: 28, width: 28) } catch { throw ChapterError("\(error)") }
    }

    /// Stops the sanity run with one sentence when the loss is no longer a number.
    func requireFinite(_ loss: Float, step: Int) throws {
        guard loss.isFinite else {
            throw ChapterError("the loss became \(loss) at step \(step); lower --lr (now \(lr)).")
        }
    }

    /// The size of a written file in bytes (0 if it cannot be read).
    func fileSize(_ url: URL) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }

    /// Writes summary.json: the numbers of the run.
    func saveSummary(_ architecture: UNetArchitecture, parameters: Int, initialLoss: Float, finalLoss: Float,
                     _ out: OutputFolder) throws {
        try out.writeJSON(Summary(model: architecture == .annotated ? nil : modelChoice, parameters: parameters,
                                  block: block, batch: batchSize, steps: stepCount, initialLoss: initialLoss,
                                  finalLoss: finalLoss),
                          to: "summary.json")
    }

    /// The numbers of the run (no timings, so the same seed writes the same bytes).
    /// (`model` is left out for the Annotated U-Net, so its file reads as before.)
    struct Summary: Encodable {
        let model: String?
        let parameters: Int
        let block: String
        let batch: Int
        let steps: Int
        let initialLoss: Float
        let finalLoss: Float
    }
}

/// 2020257 → "2,020,257".
func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0 ? [","] : []) + [d] })
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
