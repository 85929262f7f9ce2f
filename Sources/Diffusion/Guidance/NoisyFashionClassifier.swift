import Foundation
import TinyTensor

/// A classifier of *noisy* Fashion-MNIST images x_t that also sees t: p_φ(y | x_t, t), the
/// classifier that classifier guidance (Dhariwal & Nichol 2021) differentiates. The course's
/// `FashionClassifier` judges clean samples; at t = 250 an image is mostly noise, and a
/// classifier that never saw noise has nothing useful to say about it.
///
/// The same four convolutions as `FashionClassifier`, with the step t (sinusoidal embedding,
/// then an MLP) added as a per-channel bias after the first and the third:
///
///     e      = SiLU(W_t emb(t) + b_t)                      [N, 128]
///     conv1  3×3, 1 → 32, + proj1(e), ReLU                [N, 32, 28, 28]
///     conv2  3×3 stride 2, 32 → 32, ReLU                  [N, 32, 14, 14]
///     conv3  3×3, 32 → 64, + proj3(e), ReLU               [N, 64, 14, 14]
///     conv4  3×3 stride 2, 64 → 32, ReLU                  [N, 32, 7, 7]
///     fc1    1568 → 128, ReLU;  fc2 128 → 10              [N, 10]
public final class NoisyFashionClassifier: Module {
    public let timeMlp: Sequential               // SinusoidalPositionEmbeddings(32), Linear, SiLU
    public let conv1: Conv2d, proj1: Linear, conv2: Conv2d, conv3: Conv2d, proj3: Linear, conv4: Conv2d
    public let fc1: Linear, fc2: Linear

    public init(rng: inout RandomGenerator) {
        timeMlp = Sequential(SinusoidalPositionEmbeddings(32), Linear(32, 128, rng: &rng), Activation(.silu))
        conv1 = Conv2d(1, 32, kernelSize: 3, padding: 1, rng: &rng)
        proj1 = Linear(128, 32, rng: &rng)
        conv2 = Conv2d(32, 32, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        conv3 = Conv2d(32, 64, kernelSize: 3, padding: 1, rng: &rng)
        proj3 = Linear(128, 64, rng: &rng)
        conv4 = Conv2d(64, 32, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        fc1 = Linear(32 * 7 * 7, 128, rng: &rng)
        fc2 = Linear(128, FashionClassifier.classCount, rng: &rng)
    }

    /// Class scores of x_t [N, 1, 28, 28] at steps t (one per image) → [N, 10].
    public func callAsFunction(_ x: Tensor, _ t: [Int]) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 1 && x.shape[2] == 28 && x.shape[3] == 28 && t.count == x.shape[0],
                     "NoisyFashionClassifier: expected images [N, 1, 28, 28] and N steps, got \(x.shape) and \(t.count)")
        let n = x.shape[0]
        let e = timeMlp(Tensor(t.map(Float.init)))                                   // [N, 128]
        var h = (conv1(x) + proj1(e).reshape([n, 32, 1, 1])).relu()                  // [N, 32, 28, 28]
        h = conv2(h).relu()                                                          // [N, 32, 14, 14]
        h = (conv3(h) + proj3(e).reshape([n, 64, 1, 1])).relu()                      // [N, 64, 14, 14]
        h = conv4(h).relu()                                                          // [N, 32, 7, 7]
        return fc2(fc1(h.flatten(from: 1)).relu())                                   // [N, 10]
    }

    /// ∇_{x_t} log p_φ(y | x_t, t) for each image and its class y: the direction that makes
    /// the classifier more sure of y (by autograd through the network) → [N, 1, 28, 28].
    public func logProbabilityGradient(_ x: Tensor, _ t: [Int], labels: [Int]) -> Tensor {
        precondition(labels.count == x.shape[0], "logProbabilityGradient: \(labels.count) labels for \(x.shape[0]) images")
        let input = x.detached().requiringGrad()
        enableGrad {                                                                 // also inside a sampler's noGrad
            let logProbabilities = self(input, t).logSoftmax(axis: 1)                // [N, 10]
            let picked = Tensor(labels.flatMap { y in
                (0..<FashionClassifier.classCount).map { $0 == y ? Float(1) : 0 }
            }, shape: logProbabilities.shape)                                        // one-hot [N, 10]
            (logProbabilities * picked).sum().backward()                             // Σ_i log p(y_i | x_i)
        }
        for p in parameters() { p.grad = nil }                                       // only ∂/∂x is wanted
        return input.grad!.detached()                                                // [N, 1, 28, 28]
    }
}

// MARK: - Training and loading

extension NoisyFashionClassifier {
    /// Trains p_φ(y | x_t, t) on noised training images: for each batch, t ~ U{0, …, T − 1} per
    /// image and x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (`qSample`), cross-entropy against the labels,
    /// Adam with a cosine decay from `lr` to lr/50, images flipped left-right with p = ½.
    /// `progress(step, totalSteps, meanLoss)` is called every 100 steps and at the end.
    public static func train(on data: FashionMNIST, diffusion: GaussianDiffusion, epochs: Int, batchSize: Int = 128,
                             lr: Float = 2e-3, rng: inout RandomGenerator,
                             progress: ((Int, Int, Double) -> Void)? = nil) -> NoisyFashionClassifier {
        precondition(epochs >= 1 && batchSize >= 1 && data.count >= batchSize,
                     "NoisyFashionClassifier.train: need epochs ≥ 1 and at least one batch of \(batchSize) images (have \(data.count))")
        let model = NoisyFashionClassifier(rng: &rng)
        let optimizer = Adam(model.parameters(), lr: lr)
        let stepsPerEpoch = data.count / batchSize, total = epochs * stepsPerEpoch
        let schedule = LearningRateSchedule.cosine(peak: lr, floor: lr / 50, steps: total)
        var step = 0, lossSum = 0.0, lossCount = 0
        for _ in 0..<epochs {
            let order = rng.permutation(data.count)
            for b in 0..<stepsPerEpoch {
                let indices = Array(order[(b * batchSize)..<((b + 1) * batchSize)])
                let flips = rng.uniform(count: batchSize).map { $0 < 0.5 }
                let x0 = ImageTransforms.horizontalFlip(data.images(indices), where: flips)   // [B, 1, 28, 28]
                let t = rng.integers(count: batchSize, below: diffusion.timesteps)          // [B] steps
                let xt = diffusion.qSample(x0, t: t, using: &rng)                           // [B, 1, 28, 28]
                optimizer.lr = schedule(step)
                optimizer.zeroGrad()
                let loss = crossEntropy(model(xt, t), indices.map { Int(data.labels[$0]) })  // logits [B, 10]
                loss.backward()
                optimizer.step()
                step += 1
                lossSum += Double(loss.item); lossCount += 1
                if step % 100 == 0 || step == total {
                    progress?(step, total, lossSum / Double(lossCount))
                    lossSum = 0; lossCount = 0
                }
            }
        }
        return model
    }

    /// The fraction of `data`'s images classified correctly after noising each to step t
    /// (noise from a generator seeded with `seed`, in batches of 500).
    public func accuracy(on data: FashionMNIST, diffusion: GaussianDiffusion, t: Int, seed: UInt64 = 0) -> Double {
        var rng = RandomGenerator(seed: seed)
        var correct = 0
        for start in stride(from: 0, to: data.count, by: 500) {
            let indices = Array(start..<min(start + 500, data.count))
            let steps = Array(repeating: t, count: indices.count)
            let xt = diffusion.qSample(data.images(indices), t: steps, using: &rng)              // [n, 1, 28, 28]
            let predicted = noGrad { self(xt, steps) }.argmax(axis: 1)
            correct += zip(predicted, indices).filter { $0 == Int(data.labels[$1]) }.count
        }
        return Double(correct) / Double(Swift.max(1, data.count))
    }

    /// Loads trained weights, or throws one sentence that says how to get them.
    public static func load(from url: URL) throws -> NoisyFashionClassifier {
        var rng = RandomGenerator(seed: 0)
        let model = NoisyFashionClassifier(rng: &rng)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DiffusionError("the noisy-image classifier \(url.path) is missing; train it (\(option: "trainClassifier", "NoisyFashionClassifier.train"), a few minutes).")
        }
        do { try model.loadStateDict(url) } catch {
            throw DiffusionError("the noisy-image classifier \(url.path) does not fit this model (\(error)); retrain it (\(option: "trainClassifier", "NoisyFashionClassifier.train")).")
        }
        return model
    }
}
