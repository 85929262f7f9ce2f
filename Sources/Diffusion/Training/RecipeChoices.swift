import Foundation
import TinyTensor

// The choices a `TrainingRecipe` makes by name. Each is stored in checkpoints as its raw value
// (the same strings as before they were types), so every saved recipe still reads, and a
// file that names an unknown choice is refused when its recipe is decoded.

/// Which network predicts the noise.
public enum DenoiserKind: String, CaseIterable, Codable, Sendable {
    /// The Annotated Diffusion Model's U-Net (recipes store it as no `model` at all).
    case annotated
    /// The MindSpore port's U-Net.
    case mindspore
    /// "DDPM from scratch in PyTorch"'s TwoResUNet.
    case tworesunet
    /// The 2D tutorial's MLP (Chapter 4).
    case mlp
}

/// The Annotated U-Net's block.
public enum UNetBlock: String, CaseIterable, Codable, Sendable {
    case resnet, convnext
}

/// The MLP's weight initialisation.
public enum MLPInitialization: String, CaseIterable, Codable, Sendable {
    /// Keras' Glorot-uniform with zero biases (the 2D tutorial's).
    case glorot
    /// PyTorch's default for `nn.Linear`.
    case pytorch
}

/// The learning rate over a run (after its warm-up).
public enum LearningRateDecay: String, CaseIterable, Codable, Sendable {
    case constant, cosine
}

/// The order in which an epoch visits the training examples.
public enum Shuffle: String, CaseIterable, Codable, Sendable {
    /// A uniformly random permutation of all N examples.
    case full
    /// tf.data's `shuffle(bufferSize)`: a buffer holds the next `bufferSize` examples; each
    /// output is a random element of the buffer, whose slot is refilled with the next input.
    /// On data stored cluster after cluster (as the 2D tutorial's is), a buffer of 1000 never
    /// holds more than about two clusters at a time: each batch comes from a narrow window of
    /// the data, and the last clusters are seen last in every epoch.
    case buffer

    /// This epoch's order of n examples.
    public func order(_ n: Int, bufferSize: Int, using rng: inout RandomGenerator) -> [Int] {
        if self == .full { return rng.permutation(n) }
        var order: [Int] = []
        order.reserveCapacity(n)
        var buffer = Array(0..<min(bufferSize, n))
        var next = buffer.count
        let picks = rng.integers(count: n, below: Int.max)      // one random draw per output
        for pick in picks {
            let slot = pick % buffer.count
            order.append(buffer[slot])
            if next < n {
                buffer[slot] = next
                next += 1
            } else {
                buffer.swapAt(slot, buffer.count - 1)
                buffer.removeLast()
            }
        }
        return order
    }
}
