// Chapter 3's command line: the options, every check on them (the photo is read here, so a bad
// --image fails before any output), then the lesson (Chapter03.swift).

import ArgumentParser
import ChapterSupport
import Diffusion
import Figures
import Foundation
import TinyTensor

@main
struct Chapter03: ChapterCommand {
    static let configuration = CommandConfiguration(
        commandName: "Chapter03-Forward",
        abstract: "q(x_t | x_0) in closed form, checked against the Markov chain; 2-D and photo demos.")

    @OptionGroup var common: ChapterOptions

    @Option(parsing: .unconditional, help: "Schedule for the 2-D part (the 2D tutorial: linear).")
    var schedule = "linear"

    @Option(parsing: .unconditional, help: "Steps T for the 2-D part (the 2D tutorial: 250).")
    var timesteps = 250

    @Option(parsing: .unconditional,
            help: "Samples per timestep in the closed-form-versus-chain check (--quick: 5000).")
    var checkSamples: Int?

    @Option(parsing: .unconditional, help: "Draw a GIF frame every this many steps.")
    var every = 10

    @Option(parsing: .unconditional, help: "A PNG photo to noise (default: the committed chelsea.png).")
    var image: String?

    @Option(parsing: .unconditional,
            help: "Steps T for the photo (the Annotated post's cat demo: 300; its MindSpore port: 200).")
    var imageTimesteps = 300

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Photo GIF: one frame every this many steps (default 4, --quick 10; 1 = every t; "
                + "the file grows with it)."))
    var catEvery: Int?

    @Option(parsing: .unconditional, help: "Side of the centre-cropped, resized photo in pixels.")
    var imageSize = 128

    /// Samples per timestep of section 1's check: --check-samples, else 50 000 (--quick: 5000).
    var checkSampleCount: Int { common.value(checkSamples, normal: 50_000, quick: 5000) }
    /// Steps between the photo GIF's frames: --cat-every, else 4 (--quick: 10).
    var catStep: Int { common.value(catEvery, normal: 4, quick: 10) }

    func run() throws {
        let clock = Stopwatch()
        guard every >= 1 else { throw ChapterError("--every must be at least 1, got \(every).") }
        guard catStep >= 1 else { throw ChapterError("--cat-every must be at least 1, got \(catStep).") }
        try Bounds.check("--timesteps", timesteps, in: 1...100_000)
        try Bounds.check("--image-timesteps", imageTimesteps, in: 200...100_000)
        if let checkSamples { try Bounds.check("--check-samples", checkSamples, in: 100...10_000_000) }
        try Bounds.check("--every", every, in: 1...100_000)
        guard (8...512).contains(imageSize) else {
            throw ChapterError("--image-size must be between 8 and 512, got \(imageSize).")
        }
        guard imageTimesteps >= 200 else {
            throw ChapterError("--image-timesteps must be at least 200 to show t = 0, 50, 100, 150, 199, "
                               + "got \(imageTimesteps).")
        }
        // The GIFs are kept in memory until written: 420 x 440 RGB frames for the 2-D part, two
        // photos side by side for the cat.
        let frames2D = Double(timesteps / every + 2), catFrameCount = Double(imageTimesteps / catStep + 2)
        try Bounds.memory(frames2D * 420 * 440 * 4, for: "the 2-D GIF (\(Int(frames2D)) frames)",
                          "raise --every or lower --timesteps")
        let catFrameBytes = Double((24 + 2 * (imageSize + 12)) * (imageSize + 44) * 4)
        try Bounds.memory(catFrameCount * catFrameBytes, for: "the photo GIF (\(Int(catFrameCount)) frames)",
                          "raise --cat-every or lower --image-timesteps or --image-size")
        _ = try NoiseSchedule(named: schedule, timesteps: timesteps)      // an unknown --schedule stops here
        let photo = try loadPhoto(try findPhoto())                                           // [1, 3, S, S]
        guard checkSampleCount >= 100 else {
            throw ChapterError("--check-samples must be at least 100, got \(checkSampleCount).")
        }
        let out = try common.start("Chapter03-Forward")
        try lesson(out, photo: photo)
        print(String(format: "done in %.2f s", clock.seconds))
    }

    /// The photo to use: --image, or chelsea.png next to this source file (or under the
    /// package root when run from there).
    func findPhoto() throws -> URL {
        if let image {
            let url = URL(fileURLWithPath: image)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ChapterError("no image file at \(image); pass the path of a PNG with --image.")
            }
            return url
        }
        let besideSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("chelsea.png")
        let fromRoot = URL(fileURLWithPath: "Chapters/Chapter03-Forward/chelsea.png")
        for url in [besideSource, fromRoot] where FileManager.default.fileExists(atPath: url.path) { return url }
        throw ChapterError("cannot find Chapters/Chapter03-Forward/chelsea.png; "
                           + "run from the package root or pass --image PATH.")
    }

    /// Reads a PNG, centre-crops and resizes it, and scales it to [−1, 1]: [1, 3, S, S]
    /// (Resize(S) + CenterCrop(S) + ToTensor + (x·2 − 1), as in the Annotated cat demo).
    func loadPhoto(_ url: URL) throws -> Tensor {
        // The reader's own sentence says what is wrong: missing, unreadable, not a PNG, too large.
        let pixels = try PNG.readTensor(from: url, channels: 3)                               // [3, H, W] in [0, 1]
        let square = ImageTransforms.centerCropResize(pixels, size: imageSize)               // [3, S, S]
        print(String(format: "photo %@: %d x %d, centre-cropped and resized to %d x %d, scaled to [-1, 1]",
                     url.lastPathComponent, pixels.shape[2], pixels.shape[1], imageSize, imageSize))
        return ImageTransforms.toModelRange(square).reshape([1, 3, imageSize, imageSize])    // [1, 3, S, S]
    }
}
