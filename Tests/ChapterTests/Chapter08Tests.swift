import Foundation
import Testing
import TinyTensor

/// Chapter 8 on a tiny class-conditional model (Chapter 6 `--recipe conditional --quick`):
/// every figure and the metrics are written, the noisy classifier is trained once and then
/// loaded, the same seed gives the same bytes, bad input is one sentence.
@Suite struct Chapter08Tests {
    static let name = "Chapter08-Guidance"

    @Test func quickRunOnATinyConditionalModelWritesEverything() throws {
        let trained = try ChapterRunner.run("Chapter06-FashionMNIST", Chapter06Tests.tiny + ["--recipe", "conditional"])
        #expect(trained.status == 0, "stderr: \(trained.stderr)")
        #expect(trained.stdout.contains("class-conditional: 10 classes + the null class, label dropout 0.1"))
        let weights = trained.output.appendingPathComponent("unet.safetensors").path
        let args = ["--quick", "--checkpoint", weights, "--scales", "0,1,4", "--grid-scales", "0,4",
                    "--classifier-scales", "0,5", "--samples", "20"]
        let run = try ChapterRunner.run(Self.name, args + ["--threads", "2"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for file in ["cfg_grids.png", "classifier_grids.png", "tradeoff.png", "sneaker.gif", "metrics.json",
                     "noisy_classifier.safetensors"] {
            #expect(run.files.contains(file), "missing \(file); wrote \(run.files)")
        }
        #expect(run.stdout.contains("training the noisy-image classifier"))
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: run.output.appendingPathComponent("metrics.json"))) as? [String: Any])
        let rows = try #require(json["rows"] as? [[String: Any]])
        #expect(rows.count == 3 + 2)
        for row in rows {
            let accuracy = try #require(row["accuracy"] as? Double)
            let asDrawn = try #require(row["accuracyAsDrawn"] as? Double)
            #expect(accuracy >= 0 && accuracy <= 1 && asDrawn >= 0 && asDrawn <= 1)
            // Per class: 20 samples ask for each class twice, so the mean of the ten is the accuracy.
            let byClass = try #require(row["classAccuracy"] as? [Double])
            #expect(byClass.count == 10 && abs(byClass.reduce(0, +) / 10 - accuracy) < 1e-9)
        }
        // Defective samples are a column of their own: the shares and the defective fraction add
        // up to 1, and leaving them out can only raise the accuracy.
        for row in rows {
            let shares = try #require(row["shares"] as? [Double]), defective = try #require(row["defective"] as? Double)
            #expect(abs(shares.reduce(0, +) + defective - 1) < 1e-9, "\(row)")
            let empty = try #require(row["empty"] as? Double), burnt = try #require(row["saturatedImages"] as? Double)
            #expect(abs(empty + burnt - defective) < 1e-12)
            #expect(try #require(row["garmentAccuracy"] as? Double) >= (row["accuracy"] as? Double ?? 2) - 1e-12 || defective == 1)
            #expect((row["classDefective"] as? [Double])?.count == 10)
        }
        #expect(run.stdout.contains("of the 1000 real test images 0 are empty and 0 saturated"), "\(run.stdout)")
        // Each measured row's images and asked labels, for any other judge (s = 0 is w = 0's file).
        for name in ["samples-w0", "samples-w1", "samples-w4", "samples-s5"] {
            let file = try SafeTensors.read(run.output.appendingPathComponent(name + ".safetensors"))
            let tensors = Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.tensor) })
            #expect(tensors["images"]?.shape == [20, 1, 28, 28], "\(name)")
            #expect(tensors["labels"]?.data == (0..<20).map { Float($0 % 10) }, "\(name)")
        }
        #expect(!run.files.contains("samples-s0.safetensors"))
        // s = 0 is w = 0's images (ε_∅ alone): reused, not sampled again.
        let unguided = rows.filter { $0["scale"] as? Double == 0 }
        #expect(unguided.count == 2 && unguided[0]["fid"] as? Double == unguided[1]["fid"] as? Double)
        #expect(run.stdout.contains("not sampled twice"))
        let judge = try #require(json["realClassAccuracy"] as? [Double])
        #expect(judge.count == 10 && judge.reduce(0, +) / 10 > 0.8, "\(judge)")   // the committed classifier is ~91 % right either way
        let judgeAsDrawn = try #require(json["realClassAccuracyAsDrawn"] as? [Double])
        #expect(judgeAsDrawn.count == 10 && judgeAsDrawn[9] > 0.8, "\(judgeAsDrawn)")   // and knows (unmirrored) ankle boots
        #expect(run.stdout.contains("the judge, Chapter 6's classifier, on 1000 real test images"))
        // Again into the same folder: the classifier is loaded, not retrained, and every file is the same.
        let before = try Data(contentsOf: run.output.appendingPathComponent("metrics.json"))
        let again = try ChapterRunner.run(Self.name, args + ["--threads", "1"], output: run.output)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("loaded") && !again.stdout.contains("training the noisy-image classifier"))
        #expect(try Data(contentsOf: run.output.appendingPathComponent("metrics.json")) == before)
        #expect(!String(decoding: before, as: UTF8.self).contains("clipped"))
        // --rescore measures the saved samples again: the same metrics.json as the run that drew them.
        let rescored = try ChapterRunner.run(Self.name, ["--quick", "--rescore"], output: run.output)
        #expect(rescored.status == 0, "stderr: \(rescored.stderr)")
        #expect(try Data(contentsOf: run.output.appendingPathComponent("metrics.json")) == before)

        // --replot redraws the same tradeoff.png from metrics.json and leaves the run's record alone.
        let figure = try Data(contentsOf: run.output.appendingPathComponent("tradeoff.png"))
        let record = try Data(contentsOf: run.output.appendingPathComponent("run.json"))
        try FileManager.default.removeItem(at: run.output.appendingPathComponent("tradeoff.png"))
        let replot = try ChapterRunner.run(Self.name, ["--replot"], output: run.output)
        #expect(replot.status == 0, "stderr: \(replot.stderr)")
        #expect(try Data(contentsOf: run.output.appendingPathComponent("tradeoff.png")) == figure)
        #expect(try Data(contentsOf: run.output.appendingPathComponent("run.json")) == record)

        // --clip: x̂_0 clipped at every step, so even w = 4 leaves no pixel beyond ±1.1.
        let clipped = try ChapterRunner.run(Self.name, args + ["--clip"])
        #expect(clipped.status == 0, "stderr: \(clipped.stderr)")
        let summary = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: clipped.output.appendingPathComponent("metrics.json"))) as? [String: Any])
        #expect(summary["clipped"] as? Bool == true)
        for row in try #require(summary["rows"] as? [[String: Any]]) {
            #expect(row["saturated"] as? Double == 0, "\(row)")
        }
    }

    @Test func badInputEndsInOneSentence() throws {
        let unconditional = try ChapterRunner.run("Chapter06-FashionMNIST", Chapter06Tests.tiny)
        let weights = unconditional.output.appendingPathComponent("unet.safetensors").path
        for args in [["--quick", "--checkpoint", "/nonexistent.safetensors"], ["--quick", "--checkpoint", weights],
                     ["--quick", "--scales", "1,x"], ["--quick", "--samples", "1"], ["--quick", "--steps", "0"]] {
            let run = try ChapterRunner.run(Self.name, args)
            #expect(run.status == 1, "\(args)")
            #expect(errorLine(run).hasPrefix("Error: "), "\(args): \(run.stderr)")
        }
    }
}
