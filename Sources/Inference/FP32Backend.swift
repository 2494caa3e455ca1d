internal import COpenBLAS

/// The fp32 reference path: im2col + OpenBLAS `cblas_sgemm`, NCHW. It calibrates the int8 model, serves as an
/// independent oracle in tests, and is the fallback when the int8 backend cannot run.
///
/// Buffers and threads are set up at init; `run` allocates nothing. Convolutions are split by output columns
/// across a `GemmTeam`, with OpenBLAS itself single-threaded (its threading allocates on every call).
final class FP32Backend {
    let network: Network
    private let plan: MemoryPlan
    private let buffers: [UnsafeMutablePointer<Float>]
    private let columns: UnsafeMutablePointer<Float>
    private let team: GemmTeam

    init(network: Network, threads: Int) {
        self.network = network
        team = GemmTeam(threads: threads)
        plan = MemoryPlan(network: network)
        buffers = plan.bufferSizes.map { size in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(size, 1))
            p.initialize(repeating: 0, count: max(size, 1))
            return p
        }
        var columnCount = 1
        for layer in network.layers {
            if case .convolution(let c) = layer, !Self.isPointwise(c) {
                let out = network.shapes[c.output]
                columnCount = max(columnCount, c.inputChannelsPerGroup * c.kernelHeight * c.kernelWidth * out.height * out.width)
            }
        }
        columns = .allocate(capacity: columnCount)
        columns.initialize(repeating: 0, count: columnCount)
    }

    deinit {
        for b in buffers { b.deallocate() }
        columns.deallocate()
    }

    /// Bytes of activation memory planned.
    var activationBytes: Int { plan.totalElements * 4 }

    func tensor(_ id: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: buffers[plan.bufferOfTensor[id]], count: network.shapes[id].count)
    }

    /// Runs the network on an NCHW input and writes the logits.
    /// - Parameter observe: called with each tensor as soon as it is computed (calibration reads them here).
    func run(
        input: UnsafeBufferPointer<Float>, logits: UnsafeMutableBufferPointer<Float>,
        observe: ((Int, UnsafeMutableBufferPointer<Float>) -> Void)? = nil
    ) {
        precondition(input.count == network.input.count && logits.count == network.classCount, "wrong buffer sizes")
        openblas_set_num_threads(1)
        let inputBuffer = tensor(0)
        _ = inputBuffer.update(fromContentsOf: input)
        observe?(0, inputBuffer)
        for layer in network.layers {
            switch layer {
            case .convolution(let c): convolution(c)
            case .maxPool(let p): maxPool(p)
            case .add(let a): add(a)
            case .globalAveragePool(let i, let o): globalAveragePool(input: i, output: o)
            case .fullyConnected(let f): fullyConnected(f)
            }
            observe?(layer.output, tensor(layer.output))
        }
        _ = logits.update(fromContentsOf: tensor(network.layers.last!.output))
    }

    private static func isPointwise(_ c: Network.Convolution) -> Bool {
        c.kernelHeight == 1 && c.kernelWidth == 1 && c.strideHeight == 1 && c.strideWidth == 1
            && c.padding.allSatisfy { $0 == 0 }
    }

    private func convolution(_ c: Network.Convolution) {
        let inShape = network.shapes[c.input]
        let outShape = network.shapes[c.output]
        let src = tensor(c.input).baseAddress!
        let dst = tensor(c.output).baseAddress!
        let n = outShape.height * outShape.width
        let k = c.inputChannelsPerGroup * c.kernelHeight * c.kernelWidth
        let m = c.outputChannels / c.groups
        let pointwise = Self.isPointwise(c)
        c.weights.withUnsafeBufferPointer { weights in
            c.bias.withUnsafeBufferPointer { bias in
                for g in 0..<c.groups {
                    let groupInput = src + g * c.inputChannelsPerGroup * inShape.height * inShape.width
                    let cols: UnsafePointer<Float>
                    if pointwise {
                        cols = UnsafePointer(groupInput)
                    } else {
                        im2col(c, input: groupInput, inShape: inShape, outShape: outShape)
                        cols = UnsafePointer(columns)
                    }
                    team.run(GemmTeam.Product(
                        m: m, n: n, k: k, a: weights.baseAddress! + g * m * k, b: cols, c: dst + g * m * n,
                        bias: bias.baseAddress! + g * m, relu: c.relu))
                }
            }
        }
    }

    private func im2col(_ c: Network.Convolution, input: UnsafeMutablePointer<Float>, inShape: Network.Shape, outShape: Network.Shape) {
        let (ih, iw, oh, ow) = (inShape.height, inShape.width, outShape.height, outShape.width)
        let (padTop, padLeft) = (c.padding[0], c.padding[1])
        var row = columns
        for ch in 0..<c.inputChannelsPerGroup {
            let plane = input + ch * ih * iw
            for ky in 0..<c.kernelHeight {
                for kx in 0..<c.kernelWidth {
                    for oy in 0..<oh {
                        let y = oy * c.strideHeight - padTop + ky * c.dilationHeight
                        let out = row + oy * ow
                        if y < 0 || y >= ih {
                            out.update(repeating: 0, count: ow)
                            continue
                        }
                        let line = plane + y * iw
                        var x = kx * c.dilationWidth - padLeft
                        for ox in 0..<ow {
                            out[ox] = (x >= 0 && x < iw) ? line[x] : 0
                            x += c.strideWidth
                        }
                    }
                    row += oh * ow
                }
            }
        }
    }

    private func maxPool(_ p: Network.Pooling) {
        let s = network.shapes[p.input]
        let o = network.shapes[p.output]
        let src = tensor(p.input).baseAddress!
        let dst = tensor(p.output).baseAddress!
        for ch in 0..<s.channels {
            let plane = src + ch * s.height * s.width
            let out = dst + ch * o.height * o.width
            for oy in 0..<o.height {
                for ox in 0..<o.width {
                    var best = -Float.infinity
                    for ky in 0..<p.kernel {
                        let y = oy * p.stride - p.padding[0] + ky
                        if y < 0 || y >= s.height { continue }
                        for kx in 0..<p.kernel {
                            let x = ox * p.stride - p.padding[1] + kx
                            if x < 0 || x >= s.width { continue }
                            best = max(best, plane[y * s.width + x])
                        }
                    }
                    out[oy * o.width + ox] = best
                }
            }
        }
    }

    private func add(_ a: Network.Addition) {
        let x = tensor(a.inputs.0)
        let y = tensor(a.inputs.1)
        let out = tensor(a.output)
        if a.relu {
            for i in 0..<out.count { out[i] = max(x[i] + y[i], 0) }
        } else {
            for i in 0..<out.count { out[i] = x[i] + y[i] }
        }
    }

    private func globalAveragePool(input: Int, output: Int) {
        let s = network.shapes[input]
        let src = tensor(input).baseAddress!
        let dst = tensor(output)
        let n = s.height * s.width
        for ch in 0..<s.channels {
            var sum: Float = 0
            let plane = src + ch * n
            for i in 0..<n { sum += plane[i] }
            dst[ch] = sum / Float(n)
        }
    }

    private func fullyConnected(_ f: Network.FullyConnected) {
        let x = tensor(f.input).baseAddress!
        let out = tensor(f.output).baseAddress!
        _ = UnsafeMutableBufferPointer(start: out, count: f.outputCount).update(fromContentsOf: f.bias)
        f.weights.withUnsafeBufferPointer { w in
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(f.outputCount), Int32(f.inputCount), 1, w.baseAddress!, Int32(f.inputCount), x, 1, 1, out, 1)
        }
    }
}

@available(*, unavailable)
extension FP32Backend: Sendable {}
