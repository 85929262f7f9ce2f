import Foundation
import Testing
@testable import TinyTensor

/// The PyTorch fixture written by Fixtures/make_convops_fixture.py.
struct ConvOpsFixture {
    struct Entry: Decodable { var shape: [Int]; var offset: Int }
    struct Case: Decodable {
        var name: String
        var op: String
        var params: [String: Int]
        var tensors: [String: Entry]
    }
    struct Index: Decodable { var torch: String; var cases: [Case] }

    let cases: [Case]
    let floats: [Float]

    init() throws {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: folder.appendingPathComponent("convops.json")))
        let bytes = try Data(contentsOf: folder.appendingPathComponent("convops.bin"))
        floats = bytes.withUnsafeBytes { raw in
            (0..<bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        cases = index.cases
    }

    func tensor(_ c: Case, _ name: String) -> Tensor? {
        guard let e = c.tensors[name] else { return nil }
        return Tensor(Array(floats[e.offset ..< e.offset + e.shape.product]), shape: e.shape)
    }

    /// Runs `f` on the case's inputs, backpropagates `dy`, and compares the output and every
    /// input gradient with PyTorch's within 1e-4 (relative, absolute below 1).
    func check(_ c: Case, inputs names: [String], _ f: ([Tensor?]) -> Tensor) {
        let inputs = names.map { tensor(c, $0)?.requiringGrad() }
        let out = f(inputs)
        let expected = tensor(c, "out")!
        #expect(out.shape == expected.shape, "\(c.name): shape")
        expectClose(out.data, expected.data, tol: 1e-4, "\(c.name): output")
        out.backward(tensor(c, "dy")!)
        for (name, input) in zip(names, inputs) {
            guard let input else { continue }
            let grad = tensor(c, "grad_" + name)!
            expectClose(input.grad?.data ?? [], grad.data, tol: 1e-4, "\(c.name): grad of \(name)")
        }
    }
}

@Suite struct ConvOpsPyTorchTests {
    let fixture: ConvOpsFixture
    init() throws { fixture = try ConvOpsFixture() }

    func cases(_ op: String) -> [ConvOpsFixture.Case] {
        let found = fixture.cases.filter { $0.op == op }
        #expect(!found.isEmpty, "no fixture cases for \(op)")
        return found
    }

    @Test func conv2dMatchesPyTorch() {
        for c in cases("conv2d") {
            let p = c.params
            fixture.check(c, inputs: ["x", "weight", "bias"]) { t in
                Tensor.conv2d(t[0]!, weight: t[1]!, bias: t[2], stride: p["stride"]!, padding: p["padding"]!,
                              groups: p["groups"]!)
            }
        }
    }

    @Test func convTranspose2dMatchesPyTorch() {
        for c in cases("convTranspose2d") {
            let p = c.params
            fixture.check(c, inputs: ["x", "weight", "bias"]) { t in
                Tensor.convTranspose2d(t[0]!, weight: t[1]!, bias: t[2], stride: p["stride"]!, padding: p["padding"]!,
                                       outputPadding: p["outputPadding"]!)
            }
        }
    }

    @Test func groupNormMatchesPyTorch() {
        for c in cases("groupNorm") {
            fixture.check(c, inputs: ["x", "weight", "bias"]) { t in
                Tensor.groupNorm(t[0]!, groups: c.params["groups"]!, weight: t[1], bias: t[2])
            }
        }
    }

    @Test func softmaxAndLogSoftmaxMatchPyTorch() {
        for c in cases("softmax") { fixture.check(c, inputs: ["x"]) { $0[0]!.softmax(axis: c.params["axis"]!) } }
        for c in cases("logSoftmax") { fixture.check(c, inputs: ["x"]) { $0[0]!.logSoftmax(axis: c.params["axis"]!) } }
    }

    @Test func resamplingMatchesPyTorch() {
        for c in cases("upsampleNearest") {
            fixture.check(c, inputs: ["x"]) { $0[0]!.upsampleNearest(scale: c.params["scale"]!) }
        }
        for c in cases("pixelUnshuffle") { fixture.check(c, inputs: ["x"]) { $0[0]!.pixelUnshuffle(c.params["r"]!) } }
    }
}

@Suite struct ConvOpsGradientTests {
    func check(_ inputs: [Tensor], tol: Float = 2e-2, _ f: @escaping ([Tensor]) -> Tensor) {
        let result = gradCheck(inputs, f)
        #expect(result.maxError < tol, "\(result)")
    }

    @Test func conv2dGradients() {
        for (stride, padding, groups) in [(1, 1, 1), (2, 1, 1), (1, 0, 2), (2, 2, 4)] {
            let x = randomTensor([2, 4, 6, 5], seed: 1)
            let w = randomTensor([4, 4 / groups, 3, 3], seed: 2, scale: 0.3)
            let b = randomTensor([4], seed: 3)
            check([x, w, b]) { Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding, groups: groups) }
        }
        // The MindSpore U-Net's downsampling: a 4×4 kernel, stride 2, padding 1, no bias (6×6 → 3×3).
        let x = randomTensor([2, 3, 6, 6], seed: 15)
        let w = randomTensor([4, 3, 4, 4], seed: 16, scale: 0.3)
        check([x, w]) { Tensor.conv2d($0[0], weight: $0[1], bias: nil, stride: 2, padding: 1) }
    }

    @Test func depthwiseConvGradients() {
        let x = randomTensor([2, 3, 8, 7], seed: 4)
        let w = randomTensor([3, 1, 7, 7], seed: 5, scale: 0.2)
        let b = randomTensor([3], seed: 6)
        check([x, w, b]) { Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: 3, groups: 3) }
    }

    @Test func convTranspose2dGradients() {
        let x = randomTensor([2, 3, 4, 3], seed: 7)
        let w = randomTensor([3, 2, 4, 4], seed: 8, scale: 0.3)
        let b = randomTensor([2], seed: 9)
        check([x, w, b]) { Tensor.convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) }
    }

    @Test func groupNormGradients() {
        let x = randomTensor([2, 6, 3, 4], seed: 10, scale: 2, offset: 1)
        let g = randomTensor([6], seed: 11, scale: 0.5, offset: 1)
        let b = randomTensor([6], seed: 12)
        for groups in [1, 2, 6] {
            check([x, g, b]) { Tensor.groupNorm($0[0], groups: groups, weight: $0[1], bias: $0[2]) }
        }
        check([x]) { Tensor.groupNorm($0[0], groups: 3, weight: nil, bias: nil) }
    }

    /// Softmax along a strided axis (linear attention's softmax over d, lines N apart) runs its
    /// lanes in SIMD; here against one scalar loop per line with the same operations, bit for bit,
    /// for lane counts with and without a SIMD remainder and blocks of 256 lines.
    @Test(arguments: [(2, 32, 784), (3, 5, 17), (1, 7, 256), (2, 1, 300)])
    func stridedSoftmaxMatchesOneLoopPerLine(_ dims: (Int, Int, Int)) {
        let (outer, n, inner) = dims
        var rng = RandomGenerator(seed: 21)
        let x = Tensor.randn([outer, n, inner], using: &rng) * 3
        let y = x.softmax(axis: 1).data
        var expected = [Float](repeating: 0, count: x.count)
        for o in 0..<outer {
            for l in 0..<inner {
                let at = { (k: Int) in (o * n + k) * inner + l }
                var m = -Float.infinity, total: Float = 0
                for k in 0..<n { m = Swift.max(m, x.data[at(k)]) }
                var e = (0..<n).map { x.data[at($0)] - m }
                _ = e.withUnsafeMutableBufferPointer { VectorKernels.expShifted($0.baseAddress!, n, shift: 0, into: $0.baseAddress!) }
                for k in 0..<n { total += e[k] }
                for k in 0..<n { expected[at(k)] = e[k] / total }
            }
        }
        #expect(y.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test func softmaxGradients() {
        let x = randomTensor([3, 4, 5], seed: 13, scale: 2)
        check([x]) { $0[0].softmax(axis: -1) }
        check([x]) { $0[0].softmax(axis: 0) }
        check([x]) { $0[0].logSoftmax(axis: 1) }
    }

    @Test func resampleGradients() {
        let x = randomTensor([2, 2, 4, 6], seed: 14)
        check([x]) { $0[0].upsampleNearest(scale: 2) }
        check([x]) { $0[0].upsampleNearest(scale: 3) }
        check([x]) { $0[0].pixelUnshuffle(2) }
    }
}

/// Triples from three sequences of the same length.
func zip3<A, B, C>(_ a: [A], _ b: some Sequence<B>, _ c: [C]) -> [(A, B, C)] {
    zip(a, zip(b, c)).map { ($0, $1.0, $1.1) }
}

@Suite struct ConvOpsKernelTests {
    /// The definition, one multiply-add at a time (Ops/Reference.swift).
    func naiveConv(_ x: Tensor, _ w: Tensor, stride: Int, padding: Int, groups: Int) -> [Float] {
        Tensor.referenceConv2d(x, weight: w, stride: stride, padding: padding, groups: groups).data
    }

    @Test func convolutionAndMatmulMatchTheirDefinitions() {
        // Strides, padding, groups and a bias against Ops/Reference.swift.
        let x = randomTensor([2, 6, 9, 8], seed: 30)
        for (stride, padding, groups, k) in [(1, 1, 1, 3), (2, 0, 2, 3), (2, 1, 3, 4), (1, 3, 6, 7), (1, 0, 1, 1)] {
            let w = randomTensor([6, 6 / groups, k, k], seed: 31, scale: 0.2)
            let bias = randomTensor([6], seed: 32)
            let fast = Tensor.conv2d(x, weight: w, bias: bias, stride: stride, padding: padding, groups: groups)
            let plain = Tensor.referenceConv2d(x, weight: w, bias: bias, stride: stride, padding: padding, groups: groups)
            #expect(fast.shape == plain.shape)
            expectClose(fast.data, plain.data, tol: 1e-4, "conv s\(stride) p\(padding) g\(groups) k\(k)")
        }
        for (m, k, n) in [(1, 1, 1), (7, 13, 5), (33, 70, 41), (128, 300, 96)] {
            let a = randomTensor([m, k], seed: 33), b = randomTensor([k, n], seed: 34)
            expectClose(a.matmul(b).data, Tensor.referenceMatmul(a, b).data, tol: 1e-4, "matmul \(m)×\(k)×\(n)")
        }
    }

    @Test func manyChunksMatchTheDefinition() {
        // 40 samples of 16×784×9 columns need several im2col chunks.
        let x = randomTensor([40, 16, 28, 28], seed: 20)
        let w = randomTensor([16, 16, 3, 3], seed: 21, scale: 0.1)
        let y = Tensor.conv2d(x, weight: w, bias: nil, padding: 1)
        expectClose(y.data, naiveConv(x, w, stride: 1, padding: 1, groups: 1), tol: 1e-4, "chunked conv")
        let d = randomTensor([6, 12, 14, 14], seed: 22)
        let dw = randomTensor([12, 1, 7, 7], seed: 23, scale: 0.1)
        let yd = Tensor.conv2d(d, weight: dw, bias: nil, padding: 3, groups: 12)
        expectClose(yd.data, naiveConv(d, dw, stride: 1, padding: 3, groups: 12), tol: 1e-4, "depthwise")
    }

    /// The depthwise kernel's exact definition: each pixel is b + Σ_i Σ_j w[i, j]·x̃[oh + i, ow + j]
    /// summed in tap order with one fused multiply-add per tap, whichever rows it computes
    /// together (4, 2 or 1: planes of 28, 14, 7, 5 and 9 rows) and however wide the row is.
    @Test func depthwiseForwardSumsEachPixelInTapOrder() {
        for (h, width, k, padding) in [(28, 28, 7, 3), (14, 14, 7, 3), (7, 7, 7, 3), (5, 37, 3, 1), (9, 20, 3, 0)] {
            let channels = 3
            let x = randomTensor([2, channels, h, width], seed: 24), w = randomTensor([channels, 1, k, k], seed: 25)
            let bias = randomTensor([channels], seed: 26)
            let y = Tensor.conv2d(x, weight: w, bias: bias, padding: padding, groups: channels)
            let (oh, ow) = (y.shape[2], y.shape[3])
            var expected = [Float]()
            for b in 0..<2 {
                for c in 0..<channels {
                    for r in 0..<oh {
                        for q in 0..<ow {
                            var acc = bias.data[c]
                            for i in 0..<k {
                                for j in 0..<k {
                                    let row = r + i - padding, col = q + j - padding
                                    let xv = row >= 0 && row < h && col >= 0 && col < width
                                        ? x.data[((b * channels + c) * h + row) * width + col] : 0
                                    acc = acc.addingProduct(w.data[(c * k + i) * k + j], xv)
                                }
                            }
                            expected.append(acc)
                        }
                    }
                }
            }
            #expect(y.data.map(\.bitPattern) == expected.map(\.bitPattern), "\(h)×\(width), \(k)×\(k), p \(padding)")
        }
    }

    /// The depthwise weight gradient's exact definition: for each sample, lane l of 16 sums
    /// dy[oh, ow]·x̃[oh + i, ow + j] over the pixels ow ≡ l (mod 16), row by row, one fused
    /// multiply-add each; the lanes are added in order, and the samples' sums in order.
    @Test func depthwiseWeightGradientSumsInLaneOrder() {
        for (h, width, k, padding) in [(28, 28, 7, 3), (7, 7, 7, 3), (5, 37, 3, 1)] {
            let channels = 2, batch = 3
            let x = randomTensor([batch, channels, h, width], seed: 27).requiringGrad()
            let w = randomTensor([channels, 1, k, k], seed: 28).requiringGrad()
            let y = Tensor.conv2d(x, weight: w, bias: nil, padding: padding, groups: channels)
            let dy = randomTensor(y.shape, seed: 29)
            y.backward(dy)
            let (oh, ow) = (y.shape[2], y.shape[3])
            var expected = [Float]()
            for c in 0..<channels {
                for i in 0..<k {
                    for j in 0..<k {
                        var total: Float = 0
                        for b in 0..<batch {
                            var lanes = [Float](repeating: 0, count: 16)
                            for r in 0..<oh {
                                for q in 0..<ow {
                                    let row = r + i - padding, col = q + j - padding
                                    let xv = row >= 0 && row < h && col >= 0 && col < width
                                        ? x.data[((b * channels + c) * h + row) * width + col] : 0
                                    lanes[q % 16] = lanes[q % 16].addingProduct(dy.data[((b * channels + c) * oh + r) * ow + q], xv)
                                }
                            }
                            total += lanes.dropFirst().reduce(lanes[0], +)
                        }
                        expected.append(total)
                    }
                }
            }
            #expect(w.grad!.data.map(\.bitPattern) == expected.map(\.bitPattern), "\(h)×\(width), \(k)×\(k), p \(padding)")
        }
    }

    @Test func dotProductGEMMMatchesTheReference() {
        // Edge tiles and a K tail (7 × 13, K = 37), and full tiles over several K blocks.
        for (m, n, k) in [(7, 13, 37), (8, 12, 2100)] {
            let a = randomTensor([m, k], seed: 50).data, b = randomTensor([n, k], seed: 51).data
            for beta: Float in [0, 1] {
                var c = randomTensor([m, n], seed: 52).data, expected = c
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        DotProductGEMM.run(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k,
                                           beta: beta, c: cp.baseAddress!, ldc: n)
                    }
                    expected.withUnsafeMutableBufferPointer { ep in
                        referenceGemm(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                                      b: bp.baseAddress!, ldb: k, beta: beta, c: ep.baseAddress!, ldc: n)
                    }
                } }
                expectClose(c, expected, tol: 1e-4, "A·Bᵀ \(m)×\(n)×\(k) β=\(beta)")
            }
        }
    }

    /// DotProductGEMM's exact definition: in each K block of `kBlock`, lane l of 16 sums the
    /// products at p ≡ l (mod 16) from the block's start with one fused multiply-add each, in
    /// order (the last, partial step adds 0 · 0 in the missing lanes, as the zero-filled load
    /// does); the lanes are added up by `SIMD16.sum()` and written as s + β·C (β = 1 after the
    /// first block). Both tiles (the 4 × 6 of 16 lanes and the narrow 3 × 3 of two 8-lane halves)
    /// must give exactly these bits in every build, so AVX2 and AVX-512 builds train alike.
    @Test func dotProductTilesGiveTheExactLaneSums() {
        let kBlock = DotProductGEMM.kBlock
        for (m, n, k) in [(7, 13, 37), (8, 12, 2100), (3, 3, 16), (5, 7, 1030), (28, 9, 300)] {
            let a = randomTensor([m, k], seed: 50).data, b = randomTensor([n, k], seed: 51).data
            for beta: Float in [0, 1] {
                let c0 = randomTensor([m, n], seed: 52).data
                var expected = c0
                for i in 0..<m {
                    for j in 0..<n {
                        var value = c0[i * n + j]
                        for p0 in stride(from: 0, to: k, by: kBlock) {
                            let kb = min(kBlock, k - p0)
                            var lanes = SIMD16<Float>()
                            for p in 0 ..< (kb + 15) / 16 * 16 {
                                let inside = p < kb
                                lanes[p % 16] = lanes[p % 16].addingProduct(inside ? a[i * k + p0 + p] : 0,
                                                                           inside ? b[j * k + p0 + p] : 0)
                            }
                            let s = lanes.sum(), betaHere: Float = p0 == 0 ? beta : 1
                            value = betaHere == 0 ? s : s + betaHere * value
                        }
                        expected[i * n + j] = value
                    }
                }
                for wide in [true, false] {
                    var c = c0
                    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            for p0 in stride(from: 0, to: k, by: kBlock) {
                                let kb = min(kBlock, k - p0), betaHere: Float = p0 == 0 ? beta : 1
                                let (ap0, bp0, cc) = (ap.baseAddress! + p0, bp.baseAddress! + p0, cp.baseAddress!)
                                if wide {
                                    DotProductGEMM.runWide(m: m, n: n, kb: kb, a: ap0, lda: k, b: bp0, ldb: k,
                                                           beta: betaHere, c: cc, ldc: n)
                                } else {
                                    DotProductGEMM.runNarrow(m: m, n: n, kb: kb, a: ap0, lda: k, b: bp0, ldb: k,
                                                             beta: betaHere, c: cc, ldc: n)
                                }
                            }
                        }
                    } }
                    let differing = zip(c, expected).filter { $0.bitPattern != $1.bitPattern }.count
                    #expect(differing == 0, "\(wide ? "wide" : "narrow") A·Bᵀ \(m)×\(n)×\(k) β=\(beta): \(differing) differ")
                }
            }
        }
    }

    /// [y, dx, dW] of a padded 3×3 conv2d of random tensors, backpropagating a random dy, run
    /// with `threads` threads.
    func convWithGradients(x xShape: [Int], w wShape: [Int], groups: Int = 1, threads: Int) -> [[Float]] {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = threads
        let x = randomTensor(xShape, seed: 60).requiringGrad()
        let w = randomTensor(wShape, seed: 61, scale: 0.1).requiringGrad()
        let y = Tensor.conv2d(x, weight: w, bias: nil, padding: 1, groups: groups)
        y.backward(randomTensor(y.shape, seed: 62))
        return [y.data, x.grad!.data, w.grad!.data]
    }

    /// The same three by their definitions.
    func convWithGradientsByDefinition(x xShape: [Int], w wShape: [Int], groups: Int = 1) -> [[Float]] {
        let x = randomTensor(xShape, seed: 60), w = randomTensor(wShape, seed: 61, scale: 0.1)
        let dy = randomTensor([xShape[0], wShape[0], xShape[2], xShape[3]], seed: 62)
        let (dx, dw) = naiveConvGradients(x, w, dy, padding: 1, groups: groups)
        return [naiveConv(x, w, stride: 1, padding: 1, groups: groups), dx, dw]
    }

    @Test func chunkParallelGradientsMatchTheDefinitionForAnyThreadCount() {
        // 40 samples × (16·9 + 16) × 784 floats make 16 cache-sized chunks: the forward pass
        // runs one chunk of columns per thread, dW (16 output channels: dot products) one chunk
        // of samples per lane.
        let one = convWithGradients(x: [40, 16, 28, 28], w: [16, 16, 3, 3], threads: 1)
        #expect(one == convWithGradients(x: [40, 16, 28, 28], w: [16, 16, 3, 3], threads: 3))
        let expected = convWithGradientsByDefinition(x: [40, 16, 28, 28], w: [16, 16, 3, 3])
        for (name, (ours, theirs)) in zip(["y", "dx", "dW"], zip(one, expected)) {
            expectClose(ours, theirs, tol: 1e-3, "chunked \(name)")
        }
    }

    /// dx and dW by their definitions, summed in Double.
    func naiveConvGradients(_ x: Tensor, _ w: Tensor, _ dy: Tensor, padding: Int, groups: Int) -> (dx: [Float], dw: [Float]) {
        let (b, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, k) = (w.shape[0], w.shape[1], w.shape[2])
        let og = o / groups
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        for n in 0..<b { for oc in 0..<o { for i in 0..<h { for j in 0..<wd {
            let g = Double(dy.data[((n * o + oc) * h + i) * wd + j])
            for ci in 0..<cg { for p in 0..<k { for q in 0..<k {
                let ih = i - padding + p, iw = j - padding + q
                guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                let xi = ((n * c + (oc / og) * cg + ci) * h + ih) * wd + iw, wi = ((oc * cg + ci) * k + p) * k + q
                dx[xi] += g * Double(w.data[wi])
                dw[wi] += g * Double(x.data[xi])
            } } }
        } } } }
        return (dx.map(Float.init), dw.map(Float.init))
    }

    @Test func channelsLastWeightGradientMatchesTheDefinition() {
        // More than 64 output channels per group and at least 4 cache-sized chunks: dW runs on
        // channels-last copies with panels packed from the image (ConvWeightGradient.swift).
        for (batch, inC, outC, groups) in [(64, 64, 72, 1), (96, 64, 144, 2)] {
            let x = [batch, inC, 7, 7], w = [outC, inC / groups, 3, 3]
            let one = convWithGradients(x: x, w: w, groups: groups, threads: 1)
            #expect(one == convWithGradients(x: x, w: w, groups: groups, threads: 3),
                    "groups \(groups): same bits for 1 and 3 threads")
            let expected = convWithGradientsByDefinition(x: x, w: w, groups: groups)
            for (name, (ours, theirs), tol) in zip3(["y", "dx", "dW"], zip(one, expected), [Float(1e-4), 1e-4, 1e-3]) {
                expectClose(ours, theirs, tol: tol, "groups \(groups): \(name)")
            }
        }
    }

    @Test func shiftedIm2ColHandlesTinyImagesAndOtherGeometries() {
        // Planes smaller than the shift margin, kernels 1, 3 and 5, and (through the general
        // packing) a strided and an unpadded convolution.
        for (shape, k, stride, padding) in [([4, 3, 1, 1], 3, 1, 1), ([3, 5, 2, 2], 5, 1, 2), ([5, 6, 3, 3], 1, 1, 0),
                                            ([3, 4, 9, 9], 3, 2, 1), ([2, 3, 6, 6], 3, 1, 0)] {
            let x = randomTensor(shape, seed: 70), w = randomTensor([7, shape[1], k, k], seed: 71, scale: 0.2)
            let y = Tensor.conv2d(x, weight: w, bias: nil, stride: stride, padding: padding)
            expectClose(y.data, naiveConv(x, w, stride: stride, padding: padding, groups: 1), tol: 1e-4,
                        "\(shape) k\(k) s\(stride) p\(padding)")
        }
    }

    @Test func resultsDoNotDependOnThreadCount() {
        func run() -> [[Float]] {
            let x = randomTensor([24, 8, 14, 14], seed: 30).requiringGrad()
            let w = randomTensor([8, 8, 3, 3], seed: 31, scale: 0.2).requiringGrad()
            let dw = randomTensor([8, 1, 7, 7], seed: 32, scale: 0.2).requiringGrad()
            let g = randomTensor([8], seed: 33).requiringGrad()
            let h = Tensor.conv2d(x, weight: w, bias: nil, padding: 1)
            let y = Tensor.groupNorm(Tensor.conv2d(h, weight: dw, bias: nil, padding: 3, groups: 8),
                                     groups: 2, weight: g, bias: nil).softmax(axis: -1)
            y.backward(randomTensor(y.shape, seed: 34))
            return [y.data, x.grad!.data, w.grad!.data, dw.grad!.data, g.grad!.data]
        }
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        let one = run()
        Parallel.threadCount = 3
        let three = run()
        #expect(one == three)
    }

    @Test func layersUsePyTorchDefaultsAndNames() {
        var rng = RandomGenerator(seed: 1)
        let conv = Conv2d(8, 16, kernelSize: 3, padding: 1, groups: 2, rng: &rng)
        #expect(conv.weight.shape == [16, 4, 3, 3])
        let bound = 1 / Float(4 * 9).squareRoot()
        #expect(conv.weight.data.allSatisfy { Swift.abs($0) <= bound })
        #expect(conv.weight.data.contains { Swift.abs($0) > 0.8 * bound })
        #expect(conv.namedParameters().map(\.name) == ["weight", "bias"])
        let up = ConvTranspose2d(8, 4, kernelSize: 4, stride: 2, padding: 1, rng: &rng)
        #expect(up(Tensor.zeros([1, 8, 5, 5])).shape == [1, 4, 10, 10])
        let norm = GroupNorm(groups: 4, channels: 8)
        #expect(norm.weight.data == [Float](repeating: 1, count: 8) && norm.bias.data == [Float](repeating: 0, count: 8))
        #expect(conv(norm(Tensor.ones([2, 8, 6, 6]))).shape == [2, 16, 6, 6])
    }
}
