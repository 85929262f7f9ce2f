// MARK: - Views of the same elements in another shape

extension Tensor {
    /// The same elements in a new shape; one extent may be −1 (inferred).
    public func reshape(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).product
            precondition(known > 0 && count % known == 0, "reshape: cannot reshape \(shape) into \(newShape)")
            s[i] = count / known
        }
        precondition(s.product == count, "reshape: cannot reshape \(shape) (\(count) elements) into \(newShape)")
        return Tensor.record(data, shape: s, inputs: [self], op: "reshape") { g in [g] }
    }
    public func reshape(_ dims: Int...) -> Tensor { reshape(dims) }

    /// Collapses axes `start...end` into one.
    public func flatten(from start: Int = 0, to end: Int = -1) -> Tensor {
        let e = end < 0 ? rank + end : end
        guard rank > 0, start < e else { return self }
        let merged: Int = shape[start...e].product
        var s: [Int] = Array(shape[..<start])
        s.append(merged)
        s.append(contentsOf: shape[(e + 1)...])
        return reshape(s)
    }

    /// Inserts an axis of extent 1 at `axis`.
    public func unsqueeze(_ axis: Int) -> Tensor {
        let a = axis < 0 ? rank + 1 + axis : axis
        var s = shape; s.insert(1, at: a)
        return reshape(s)
    }

    /// Removes the axis `axis`, which must have extent 1.
    public func squeeze(_ axis: Int) -> Tensor {
        let a = axis < 0 ? rank + axis : axis
        precondition(shape[a] == 1, "squeeze: axis \(axis) of shape \(shape) is not 1")
        var s = shape; s.remove(at: a)
        return reshape(s)
    }

    /// Reorders the axes: output axis i is input axis `dims[i]` (like torch.permute).
    public func permute(_ dims: [Int]) -> Tensor {
        precondition(dims.sorted() == Array(0..<rank), "permute: \(dims) is not a permutation of the axes of shape \(shape)")
        if dims == Array(0..<rank) { return reshape(shape) }
        let outShape = dims.map { shape[$0] }
        let out = Tensor.permuteData(data, shape: shape, dims: dims)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in dims.enumerated() { inverse[d] = i }
        return Tensor.record(out, shape: outShape, inputs: [self], op: "permute") { g in
            [Tensor.permuteData(g, shape: outShape, dims: inverse)]
        }
    }
    public func permute(_ dims: Int...) -> Tensor { permute(dims) }

    static func permuteData(_ x: [Float], shape: [Int], dims: [Int]) -> [Float] {
        let n = shape.count
        var inStrides = [Int](repeating: 1, count: n)
        for i in stride(from: n - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let outShape = dims.map { shape[$0] }
        let strides = dims.map { inStrides[$0] }
        if x.isEmpty { return [] }
        var out = uninitializedFloats(x.count)          // every element written below
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { yp in
                let zero = [Int](repeating: 0, count: n)
                let (x, y) = (xp.baseAddress!, yp.baseAddress!)
                forEachBroadcastRunInParallel(outShape, strides, zero) { o, a, _, run, s, _ in
                    for j in 0..<run { y[o + j] = x[a + j * s] }
                }
            }
        }
        return out
    }

    /// Swaps two axes.
    public func transpose(_ a: Int, _ b: Int) -> Tensor {
        var dims = Array(0..<rank)
        dims.swapAt(a < 0 ? rank + a : a, b < 0 ? rank + b : b)
        return permute(dims)
    }

    /// The matrix transpose of a 2-D tensor.
    public var T: Tensor {
        precondition(rank == 2, ".T needs a 2-D tensor, got shape \(shape)")
        return transpose(0, 1)
    }

    /// Repeats elements along axes of extent 1 to reach `target` (broadcasting, like expand).
    /// The backward sums over the repeated axes.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(broadcastShape(shape, target, op: "broadcast(to:)") == target,
                     "broadcast(to:): shape \(shape) cannot be broadcast to \(target)")
        let zeros = Tensor([Float](repeating: 0, count: target.product), shape: target)
        return self + zeros
    }
}

// MARK: - Slicing, indexing, joining

extension Tensor {
    /// (outer, extent, inner) sizes around `axis`: the tensor seen as [outer, extent, inner].
    func split3(_ axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].product, shape[axis], shape[(axis + 1)...].product)
    }

    func normalizedAxis(_ axis: Int, _ op: String) -> Int {
        let a = axis < 0 ? rank + axis : axis
        precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Elements `range` along `axis` (default the batch axis): `x.slice(0..<4)` is x[0:4].
    public func slice(_ range: Range<Int>, axis: Int = 0) -> Tensor {
        indexSelect(Array(range), axis: axis)
    }

    /// The sub-tensor at `index` along `axis`, that axis removed: `x.select(2)` is x[2].
    public func select(_ index: Int, axis: Int = 0) -> Tensor {
        let a = normalizedAxis(axis, "select")
        return indexSelect([index], axis: a).squeeze(a)
    }

    /// Gathers the entries `indices` along `axis` (torch.index_select); indices may repeat.
    /// The backward scatters-adds the gradient back.
    public func indexSelect(_ indices: [Int], axis: Int = 0) -> Tensor {
        let a = normalizedAxis(axis, "indexSelect")
        let (outer, n, inner) = split3(a)
        for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n) on axis \(a) of shape \(shape)") }
        var outShape = shape; outShape[a] = indices.count
        var out = [Float](repeating: 0, count: outShape.product)
        let k = indices.count
        data.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for o in 0..<outer {
                    for (j, i) in indices.enumerated() {
                        let src = (o * n + i) * inner, dst = (o * k + j) * inner
                        for e in 0..<inner { y[dst + e] = x[src + e] }
                    }
                }
            }
        }
        let inCount = count
        return Tensor.record(out, shape: outShape, inputs: [self], op: "indexSelect") { g in
            var gx = [Float](repeating: 0, count: inCount)
            for o in 0..<outer {
                for (j, i) in indices.enumerated() {
                    let src = (o * n + i) * inner, dst = (o * k + j) * inner
                    for e in 0..<inner { gx[src + e] += g[dst + e] }
                }
            }
            return [gx]
        }
    }

    /// Joins tensors along an existing axis; all other extents must agree.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors given")
        let first = tensors[0]
        let a = first.normalizedAxis(axis, "concat")
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concat: shapes \(first.shape) and \(t.shape) differ outside axis \(a)")
        }
        let outer = first.shape[..<a].product, inner = first.shape[(a + 1)...].product
        let extents = tensors.map { $0.shape[a] }
        let total = extents.reduce(0, +)
        var outShape = first.shape; outShape[a] = total
        var out = uninitializedFloats(outShape.product)                   // every element written below
        // Each tensor is `outer` runs of e·inner floats, placed total·inner apart in the output
        // at its offset (the shapes were checked above, so the runs tile the output exactly).
        var offset = 0
        out.withUnsafeMutableBufferPointer { y in
            for (t, e) in zip(tensors, extents) {
                let run = e * inner
                t.data.withUnsafeBufferPointer { x in
                    guard run > 0, var src = x.baseAddress, var dst = y.baseAddress.map({ $0 + offset * inner })
                    else { return }
                    for _ in 0..<outer {
                        dst.update(from: src, count: run)
                        src += run
                        dst += total * inner
                    }
                }
                offset += e
            }
        }
        return record(out, shape: outShape, inputs: tensors, op: "concat") { g in
            var grads: [[Float]?] = []
            var offset = 0
            g.withUnsafeBufferPointer { gp in
                for e in extents {
                    let run = e * inner
                    var gx = [Float](repeating: 0, count: outer * run)
                    gx.withUnsafeMutableBufferPointer { x in
                        guard run > 0, var dst = x.baseAddress, var src = gp.baseAddress.map({ $0 + offset * inner })
                        else { return }
                        for _ in 0..<outer {
                            dst.update(from: src, count: run)
                            src += total * inner
                            dst += run
                        }
                    }
                    grads.append(gx)
                    offset += e
                }
            }
            return grads
        }
    }

    /// Joins equally shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors given")
        let a = axis < 0 ? tensors[0].rank + 1 + axis : axis
        for t in tensors { precondition(t.shape == tensors[0].shape, "stack: shapes \(tensors[0].shape) and \(t.shape) differ") }
        return concat(tensors.map { $0.unsqueeze(a) }, axis: a)
    }

    /// Splits along `axis` into pieces of the given extents (torch.split).
    public func split(_ sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = normalizedAxis(axis, "split")
        precondition(sizes.reduce(0, +) == shape[a], "split: sizes \(sizes) do not add up to extent \(shape[a]) of axis \(a) in shape \(shape)")
        var start = 0
        return sizes.map { s in
            defer { start += s }
            return slice(start..<(start + s), axis: a)
        }
    }

    /// Splits along `axis` into `chunks` equal pieces (torch.chunk with an even split).
    public func chunk(_ chunks: Int, axis: Int = 0) -> [Tensor] {
        let a = normalizedAxis(axis, "chunk")
        precondition(shape[a] % chunks == 0, "chunk: extent \(shape[a]) of axis \(a) is not divisible by \(chunks)")
        return split([Int](repeating: shape[a] / chunks, count: chunks), axis: a)
    }
}
