import Foundation

/// A dense Float32 tensor in row-major (C) order, NCHW for images, like PyTorch.
///
/// `Tensor` is a class: parameters are shared by reference between a model and its
/// optimizer, and the autograd graph links outputs to the tensors they came from.
/// The elements live in `data` (contiguous, no strides); every op returns a new tensor.
///
///     let x = Tensor([1, 2, 3, 4], shape: [2, 2])   // [2, 2]
///     let y = (x * x).sum()                          // []  (a scalar)
///     y.backward()                                   // x.grad == 2x
public final class Tensor {
    /// The extent of each axis, outermost first. `[]` is a scalar.
    public internal(set) var shape: [Int]
    /// The elements in row-major order; `data.count == shape.product`.
    public var data: [Float] { didSet { version &+= 1 } }
    /// Counts the changes of `data` (an optimizer step, loading weights). A layer may keep
    /// something it derived from a parameter, and reuse it while the version is unchanged.
    public private(set) var version = 0

    /// The gradient of the last `backward()` with respect to this tensor (accumulated).
    public var grad: Tensor?
    /// Whether ops on this tensor are recorded for `backward()`.
    public var requiresGrad: Bool

    // Autograd bookkeeping, set only by `Tensor.record` (Autograd/Autograd.swift).
    internal var parents: [Tensor] = []
    internal var backwardFn: (([Float]) -> [[Float]?])?
    /// The op that made this tensor ("matmul", "add", ...), for error messages and graphs.
    public internal(set) var op: String = "leaf"

    /// Makes a tensor from elements in row-major order.
    public init(_ data: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        precondition(data.count == shape.reduce(1, *),
                     "Tensor: \(data.count) elements do not fill shape \(shape) (\(shape.reduce(1, *)) needed)")
        MemoryTuning.applied
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// A 1-D tensor.
    public convenience init(_ data: [Float]) { self.init(data, shape: [data.count]) }

    /// A scalar (shape `[]`).
    public convenience init(scalar: Float) { self.init([scalar], shape: []) }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }
    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(data.count == 1, "item: tensor of shape \(shape) has \(data.count) elements, not 1")
        return data[0]
    }
    /// A tensor that shares nothing with the graph: same values, no history.
    public func detached() -> Tensor { Tensor(data, shape: shape) }

    /// Sets `requiresGrad` and returns self, for chaining: `Tensor.randn(...).requiringGrad()`.
    @discardableResult public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Reads the element at a full index, e.g. `x[0, 2]`.
    public subscript(index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) has \(index.count) axes, tensor has shape \(shape)")
        var flat = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) out of range for shape \(shape)")
            flat = flat * n + i
        }
        return flat
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = data.prefix(8).map { String(format: "%.4f", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(data.count > 8 ? ", ..." : "")])"
    }
}

extension Collection where Element == Int {
    /// The number of elements of a tensor of this shape.
    @inlinable public var product: Int { reduce(1, *) }
}
