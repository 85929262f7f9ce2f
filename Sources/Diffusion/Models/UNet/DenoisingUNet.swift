import TinyTensor

/// A noise-prediction network ε_θ(x_t, t) for images: `[B, channels, H, W]` and `[B]` steps
/// in, a `[B, outDim, H, W]` noise estimate out. The three U-Nets of the course's sources are one:
///
/// - `Unet`: "The Annotated Diffusion Model" (ResNet blocks; the default everywhere);
/// - `MindSporeUnet`: its MindSpore port, the post's first version (ConvNeXt blocks, strided and
///   transposed convs, one skip per level);
/// - `TwoResUNet`: "DDPM from scratch in PyTorch" (ConvNeXt blocks, two skips per level, no
///   attention, an optional attention gate on the skips).
///
/// Chapter 5 prints any of them, Chapter 6 trains any of them (`UNetArchitecture`).
public protocol DenoisingUNet: NoiseModel {
    /// Image channels of the input.
    var channels: Int { get }
    /// How many times the image side is halved on the way down (one less than the levels).
    var downsamplings: Int { get }
    /// ε̂ = ε_θ(x, t). x: `[B, channels, H, W]`, time: `[B]` (the step index as a float).
    func callAsFunction(_ x: Tensor, _ time: Tensor) -> Tensor
    /// The forward pass; `observe(path, tensor)` (if given) sees the output of every top-level
    /// step under its module path (`init_conv`, `downs.0.0`, ...), for summaries and figures.
    func forward(_ x: Tensor, _ time: Tensor, observe: ((String, Tensor) -> Void)?) -> Tensor
}

/// One line of a model summary: a top-level step, the shape it outputs, its parameter count.
public struct UNetSummaryRow: Sendable {
    public let path: String
    public let outputShape: [Int]
    public let parameters: Int
}

extension DenoisingUNet {
    /// Throws unless an H × W image can go down and up the U: every downsampling halves the
    /// side, so H and W must be divisible by 2^downsamplings (28 admits two, 32 admits five).
    public func checkImageSize(height: Int, width: Int) throws {
        let factor = 1 << downsamplings
        guard height % factor == 0 && width % factor == 0 else {
            throw DiffusionError("a \(height)×\(width) image cannot be halved \(downsamplings) times by this U-Net; "
                + "use fewer levels in dimMults (\(downsamplings + 1) now) or pad the images to a multiple of \(factor).")
        }
    }

    /// Runs one forward pass without gradients on zeros of `inputShape` and lists every
    /// top-level step (`init_conv`, `downs.0.0`, ..., `final_conv`) with its output shape and
    /// its number of parameters, like `torchinfo.summary(model, depth=2)`.
    public func summary(inputShape: [Int]) -> [UNetSummaryRow] {
        let named = namedParameters()
        var rows: [UNetSummaryRow] = []
        noGrad {
            let x = Tensor.zeros(inputShape)                                          // [B, C, H, W]
            let t = Tensor.zeros([inputShape[0]])                                     // [B]
            _ = forward(x, t, observe: { path, out in
                let count = named.filter { $0.name.hasPrefix(path + ".") }.reduce(0) { $0 + $1.tensor.count }
                rows.append(UNetSummaryRow(path: path, outputShape: out.shape, parameters: count))
            })
        }
        return rows
    }
}

/// Which of the three U-Nets: the name used by `--model` and stored in training recipes.
public enum UNetArchitecture: String, CaseIterable, Sendable {
    case annotated, mindspore, tworesunet

    /// The names, for one-sentence errors: "annotated, mindspore or tworesunet".
    public static var choices: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// The architecture called `name`, or one sentence listing the names.
    public init(named name: String) throws {
        guard let a = UNetArchitecture(rawValue: name) else {
            throw DiffusionError("unknown \(option: "model", "model") '\(name)'; choose \(UNetArchitecture.choices).")
        }
        self = a
    }

    /// A freshly initialised network. `convNext` (annotated only) swaps in the ConvNeXt block
    /// with transposed-conv upsampling; the other two are made of ConvNeXt blocks anyway.
    public func make(dim: Int, dimMults: [Int], channels: Int, convNext: Bool = false,
                     fullAttentionAtEveryLevel: Bool = false, numClasses: Int? = nil,
                     rng: inout RandomGenerator) -> any DenoisingUNet {
        precondition(numClasses == nil || self == .annotated, "UNetArchitecture: only the Annotated U-Net is class-conditional")
        switch self {
        case .annotated:
            return Unet(dim: dim, dimMults: dimMults, channels: channels,
                        block: convNext ? .convNext(mult: 2) : .resnet,
                        upsample: convNext ? .transposed : .nearest,
                        fullAttentionAtEveryLevel: fullAttentionAtEveryLevel, numClasses: numClasses, rng: &rng)
        case .mindspore:
            return MindSporeUnet(dim: dim, dimMults: dimMults, channels: channels, rng: &rng)
        case .tworesunet:
            return TwoResUNet(dim: dim, dimMults: dimMults, channels: channels, rng: &rng)
        }
    }
}
