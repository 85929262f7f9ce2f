import Foundation

/// A fully connected layer, y = x·Wᵀ + b, with W stored [out, in] as in `torch.nn.Linear`.
///
/// Initialisation:
/// - `.pytorch` (default): W, b ~ U(−1/√in, 1/√in), PyTorch's `kaiming_uniform_(a=√5)` result.
/// - `.glorotUniform`: W ~ U(−√(6/(in+out)), √(6/(in+out))), b = 0, Keras' default (the 2D tutorial).
public final class Linear: Module {
    public enum Initialization { case pytorch, glorotUniform }

    public let weight: Tensor      // [out, in]
    public let bias: Tensor?       // [out]

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                initialization: Initialization = .pytorch, rng: inout RandomGenerator) {
        let limit: Float
        switch initialization {
        case .pytorch: limit = 1 / Float(inFeatures).squareRoot()
        case .glorotUniform: limit = (6 / Float(inFeatures + outFeatures)).squareRoot()
        }
        weight = Tensor.rand([outFeatures, inFeatures], low: -limit, high: limit, using: &rng).requiringGrad()
        if bias {
            let b: Tensor = initialization == .pytorch
                ? Tensor.rand([outFeatures], low: -limit, high: limit, using: &rng)
                : Tensor.zeros([outFeatures])
            self.bias = b.requiringGrad()
        } else {
            self.bias = nil
        }
    }

    /// x: [..., in] → [..., out]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.linear(x, weight: weight, bias: bias)
    }
}

/// A layer with no parameters that applies a function, e.g. `Activation(.relu)`.
public final class Activation: Module {
    public enum Kind: String, CaseIterable { case relu, silu, gelu, geluTanh, tanh, sigmoid, identity }
    public let kind: Kind
    public init(_ kind: Kind) { self.kind = kind }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: return x.relu()
        case .silu: return x.silu()
        case .gelu: return x.gelu()
        case .geluTanh: return x.geluTanh()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .identity: return x
        }
    }
}

/// A module that maps one tensor to one tensor, `y = layer(x)`: what `Sequential` chains.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

extension Linear: Layer {}
extension Activation: Layer {}

/// Layers applied one after another, like `nn.Sequential`; children are named "0", "1", ...
///
///     let mlp = Sequential(Linear(2, 16, rng: &rng), Activation(.relu), Linear(16, 2, rng: &rng))
///     mlp(x)                                           // [B, 2] -> [B, 2]; parameters "0.weight", "2.bias", ...
public final class Sequential: Module, Layer {
    public let layers: [any Layer]

    public init(_ layers: any Layer...) { self.layers = layers }
    public init(_ layers: [any Layer]) { self.layers = layers }

    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }

    // PyTorch names Sequential children by index alone: "0.weight", not "layers.0.weight".
    public override func parameterName(for property: String) -> String {
        property == "layers" ? "" : super.parameterName(for: property)
    }
}
