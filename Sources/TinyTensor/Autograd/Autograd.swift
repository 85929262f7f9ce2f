import Foundation

/// Reverse-mode automatic differentiation, micrograd-style.
///
/// Every differentiable op ends in one call to `Tensor.record`, which stores the op's
/// inputs and a closure mapping the gradient of the output to the gradients of the inputs.
/// `backward()` visits the graph in reverse topological order and accumulates each input's
/// gradient into its `.grad`.
public enum GradMode {
    /// False inside `noGrad { ... }`: ops record nothing (sampling, evaluation, optimizers).
    /// A task-local value, so concurrent tasks (and parallel tests) do not see each other's scope.
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording the autograd graph, like `torch.no_grad()`.
@discardableResult
public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

/// Runs `body` recording the graph even inside `noGrad`, like `torch.enable_grad()`: for a
/// gradient taken in the middle of sampling (classifier guidance, Chapter 8).
@discardableResult
public func enableGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(true) { try body() }
}

extension Tensor {
    /// The one place where an op joins the graph.
    ///
    /// - Parameters:
    ///   - data, shape: the op's result.
    ///   - inputs: the tensors the result was computed from.
    ///   - op: a short name for messages.
    ///   - backward: given dL/d(output) (same count as `data`), returns dL/d(input) for each
    ///     input, in order, or nil where an input needs none. Shapes must match the inputs.
    public static func record(_ data: [Float], shape: [Int], inputs: [Tensor], op: String,
                              backward: @escaping ([Float]) -> [[Float]?]) -> Tensor {
        let out = Tensor(data, shape: shape)
        out.op = op
        if OpProfiler.isEnabled { OpProfiler.forward(op) }
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            out.requiresGrad = true
            out.parents = inputs
            out.backwardFn = backward
        }
        return out
    }

    /// Adds `g` (same count as this tensor) to `.grad`.
    func accumulateGrad(_ g: [Float]) {
        precondition(g.count == data.count,
                     "autograd: op '\(op)' returned a gradient of \(g.count) elements for a tensor of shape \(shape)")
        if let existing = grad {
            existing.data.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { s in
                    for i in 0..<d.count { d[i] += s[i] }
                }
            }
        } else {
            grad = Tensor(g, shape: shape)
        }
    }

    /// Computes the gradient of this tensor with respect to every tensor it came from
    /// that has `requiresGrad`, accumulating into their `.grad`.
    ///
    /// - Parameters:
    ///   - gradient: dL/d(self); defaults to 1 for a scalar.
    ///   - retainGraph: keep the graph for a second `backward()`; by default it is freed.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        precondition(requiresGrad, "backward: this tensor does not require grad (no parameter or requiresGrad input led to it)")
        let seed: [Float]
        if let gradient {
            precondition(gradient.shape == shape, "backward: gradient shape \(gradient.shape) differs from tensor shape \(shape)")
            seed = gradient.data
        } else {
            precondition(data.count == 1, "backward: implicit gradient needs a scalar, got shape \(shape); pass a gradient")
            seed = [1]
        }
        // Reverse topological order by iterative depth-first search.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !visited.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }
        // Gradients of interior nodes live here; leaves accumulate into `.grad`.
        var grads: [ObjectIdentifier: [Float]] = [ObjectIdentifier(self): seed]
        for node in order.reversed() {
            let id = ObjectIdentifier(node)
            guard let g = grads.removeValue(forKey: id) else { continue }
            guard let fn = node.backwardFn else {
                node.accumulateGrad(g)   // a leaf
                continue
            }
            let started = OpProfiler.isEnabled ? DispatchTime.now().uptimeNanoseconds : 0
            let inputGrads = fn(g)
            if OpProfiler.isEnabled { OpProfiler.add(node.op + " backward", nanoseconds: DispatchTime.now().uptimeNanoseconds - started) }
            precondition(inputGrads.count == node.parents.count, "autograd: op '\(node.op)' returned \(inputGrads.count) gradients for \(node.parents.count) inputs")
            for (p, pg) in zip(node.parents, inputGrads) where p.requiresGrad {
                guard let pg else { continue }
                precondition(pg.count == p.count, "autograd: op '\(node.op)' returned a gradient of \(pg.count) elements for an input of shape \(p.shape)")
                let pid = ObjectIdentifier(p)
                if var acc = grads.removeValue(forKey: pid) {
                    acc.withUnsafeMutableBufferPointer { d in
                        pg.withUnsafeBufferPointer { s in for i in 0..<d.count { d[i] += s[i] } }
                    }
                    grads[pid] = acc
                } else {
                    grads[pid] = pg
                }
            }
            if !retainGraph { node.parents = []; node.backwardFn = nil }
        }
    }
}
