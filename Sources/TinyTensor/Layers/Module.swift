/// The base class of every layer and model, like PyTorch's `nn.Module`.
///
/// Declare parameters as `Tensor` properties and sub-modules as `Module` properties (or
/// arrays of them, like `nn.ModuleList`); they are discovered by reflection and named like
/// PyTorch's `state_dict()`: a property `initConv` holding a conv becomes `init_conv.weight`,
/// an array `downs` of arrays becomes `downs.0.0.block1.proj.weight`.
///
///     final class TinyNet: Module {
///         let fc1: Linear, fc2: Linear
///         init(rng: inout RandomGenerator) {
///             fc1 = Linear(2, 16, rng: &rng)
///             fc2 = Linear(16, 1, rng: &rng)
///         }
///         func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }   // [B, 2] -> [B, 1]
///     }
///     var rng = RandomGenerator(seed: 0)
///     TinyNet(rng: &rng).namedParameters().map(\.name)   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
///
/// (`ModuleTests.theDocumentationExampleRuns` runs this example.)
open class Module {
    /// Training mode (the default) or evaluation mode; layers such as dropout read it.
    public private(set) var training = true

    public init() {}

    /// Parameters under their PyTorch state_dict names, in declaration order.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = []
        Module.collect(self, prefix: "", parameters: &out, modules: nil)
        return out
    }

    /// All parameters (for optimizers).
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Sub-modules (this one first) under their PyTorch names; "" is the root.
    public func namedModules() -> [(name: String, module: Module)] {
        var params: [(String, Tensor)] = []
        var mods: [(String, Module)] = [("", self)]
        withUnsafeMutablePointer(to: &mods) { Module.collect(self, prefix: "", parameters: &params, modules: $0) }
        return mods
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Sets training mode on this module and all sub-modules.
    public func train(_ on: Bool = true) { for (_, m) in namedModules() { m.training = on } }
    /// Sets evaluation mode.
    public func eval() { train(false) }
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters() { p.grad = nil } }

    /// The PyTorch name of a Swift property: camelCase → snake_case (`timeMlp` → `time_mlp`,
    /// `midBlock1` → `mid_block1`, `toQKV` → `to_qkv`). Override `parameterName(for:)` in a
    /// subclass to rename; return "" to inline a property's children (as `Sequential` does).
    open func parameterName(for property: String) -> String { Module.snakeCase(property) }

    public static func snakeCase(_ s: String) -> String {
        var out = ""
        let chars = Array(s)
        for (i, c) in chars.enumerated() {
            if c.isUppercase {
                let prevLower = i > 0 && (chars[i - 1].isLowercase || chars[i - 1].isNumber)
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if i > 0 && (prevLower || (nextLower && chars[i - 1].isUppercase)) { out.append("_") }
                out.append(Character(c.lowercased()))
            } else {
                out.append(c)
            }
        }
        return out
    }

    private static func collect(_ m: Module, prefix: String, parameters: inout [(String, Tensor)],
                                modules: UnsafeMutablePointer<[(String, Module)]>?) {
        var mirror: Mirror? = Mirror(reflecting: m)
        var chain: [Mirror] = []
        while let mm = mirror { chain.append(mm); mirror = mm.superclassMirror }
        for mm in chain.reversed() {
            for child in mm.children {
                guard let label = child.label, label != "training" else { continue }
                let local = m.parameterName(for: label.hasPrefix("_") ? String(label.dropFirst()) : label)
                let name = join(prefix, local)   // an empty local name inlines the property
                visit(child.value, name: name, parameters: &parameters, modules: modules)
            }
        }
    }

    private static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : (b.isEmpty ? a : a + "." + b) }

    private static func visit(_ value: Any, name: String, parameters: inout [(String, Tensor)],
                              modules: UnsafeMutablePointer<[(String, Module)]>?) {
        switch value {
        case let t as Tensor:
            parameters.append((name, t))
        case let sub as Module:
            modules?.pointee.append((name, sub))
            collect(sub, prefix: name, parameters: &parameters, modules: modules)
        case let list as [Any]:
            for (i, item) in list.enumerated() { visit(item, name: join(name, "\(i)"), parameters: &parameters, modules: modules) }
        default:
            // Optionals (an absent bias) and plain values (sizes, flags) are not parameters.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional, let some = mirror.children.first {
                visit(some.value, name: name, parameters: &parameters, modules: modules)
            }
        }
    }
}
