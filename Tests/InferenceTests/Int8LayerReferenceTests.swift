import Foundation
@testable import Inference
import Logging
import Testing

/// Each int8 layer of the XNNPACK backend against the naive fp32 reference (ncnn's habit), on random shapes,
/// kernels, strides, dilations, asymmetric paddings and groups. Every layer is checked on its own: the reference
/// starts from the int8 tensor XNNPACK itself produced for the layer's input (dequantized), runs the layer in
/// fp32 with the model file's dequantized weights, and quantizes the result with the output's parameters. XNNPACK
/// must then agree within one step of the int8 grid (its requantization may round a boundary value the other
/// way); max pooling only selects, so it must agree exactly. A wrong weight layout, padding order, bias scale or
/// zero point moves many values by many steps.
@Suite struct Int8LayerReferenceTests {
    typealias Reference = LayerReferenceTests

    /// NCHW fp32 of an NHWC int8 tensor.
    static func planar(_ q: [Int8], _ s: Network.Shape, _ p: QuantizationParameters) -> [Float] {
        var out = [Float](repeating: 0, count: s.count)
        for c in 0..<s.channels {
            for y in 0..<s.height {
                for x in 0..<s.width { out[(c * s.height + y) * s.width + x] = p.dequantize(q[(y * s.width + x) * s.channels + c]) }
            }
        }
        return out
    }

    /// NHWC int8 of an NCHW fp32 tensor.
    static func interleaved(_ v: [Float], _ s: Network.Shape, _ p: QuantizationParameters) -> [Int8] {
        var out = [Int8](repeating: 0, count: s.count)
        for c in 0..<s.channels {
            for y in 0..<s.height {
                for x in 0..<s.width { out[(y * s.width + x) * s.channels + c] = p.quantize(v[(c * s.height + y) * s.width + x]) }
            }
        }
        return out
    }

    /// The largest distance, in int8 steps, between two tensors (Int.max when their sizes differ).
    static func steps(_ a: [Int8]?, _ b: [Int8]) -> Int {
        guard let a, a.count == b.count else { return .max }
        return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    /// input → two convolutions of the same geometry → add (± relu) → max pool → global average → fully connected.
    @Test(arguments: 0..<40)
    func everyInt8LayerAgreesWithTheNaiveReference(_ seed: Int) throws {
        var g = Reference.Generator(state: UInt64(seed) &* 104_729 &+ 3)
        // At least 2×2 after the convolution: XNNPACK refuses a 1×1 max pooling window, which the pool needs then.
        let geometry = ConvolutionGeometry(&g, minimumOutputSide: 2)
        let (input, convolved, outC) = (geometry.input, geometry.output, geometry.outC)
        let (oh, ow) = (convolved.height, convolved.width)
        let a = geometry.convolution(output: 1, relu: Bool.random(using: &g), &g), b = geometry.convolution(output: 2, relu: false, &g)
        let sum = Network.Addition(inputs: (1, 2), output: 3, relu: Bool.random(using: &g))
        let kernel = Int.random(in: 2...min(3, oh, ow), using: &g), stride = Int.random(in: 1...2, using: &g)
        let (pt, pl) = (Int.random(in: 0..<kernel, using: &g), Int.random(in: 0..<kernel, using: &g))
        let pool = Network.Pooling(input: 3, output: 4, kernel: kernel, stride: stride, padding: [pt, pl, pt, pl])
        let pooled = Network.Shape(channels: outC, height: (oh + 2 * pt - kernel) / stride + 1, width: (ow + 2 * pl - kernel) / stride + 1)
        let features = Network.Shape(channels: outC, height: 1, width: 1)
        let fc = Network.FullyConnected(input: 5, output: 6, inputCount: outC, outputCount: 6,
                                        weights: Reference.randoms(6 * outC, &g), bias: Reference.randoms(6, &g))
        var network = Network(
            shapes: [input, convolved, convolved, convolved, pooled, features, .init(channels: 6, height: 1, width: 1)],
            layers: [.convolution(a), .convolution(b), .add(sum), .maxPool(pool), .globalAveragePool(input: 4, output: 5),
                     .fullyConnected(fc)],
            presetActivations: [:])
        let x = Reference.randoms(input.count, &g)

        // Each tensor's range from an fp32 run on this input, as calibration would find it.
        var ranges: [Int: ClosedRange<Float>] = [:]
        var logits = [Float](repeating: 0, count: 6)
        x.withUnsafeBufferPointer { xs in
            logits.withUnsafeMutableBufferPointer { out in
                FP32Backend(network: network, threads: 1).run(input: xs, logits: out) { id, t in
                    ranges[id] = (t.min() ?? 0)...(t.max() ?? 0)
                }
            }
        }
        ranges[0] = (x.min() ?? 0)...(x.max() ?? 0)
        for t in [0, 1, 2, 3, 5] { network.presetActivations[t] = QuantizationParameters(min: ranges[t]!.lowerBound, max: ranges[t]!.upperBound) }

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kiosk-int8-layers-\(getpid())-\(seed).kmodel").path
        defer { unlink(path) }
        _ = try ModelQuantizer.quantize(
            network: network, labels: (0..<6).map { "class\($0)" }, preprocessing: .imageNet(inputWidth: input.width, inputHeight: input.height),
            calibrationPictures: [], options: .init(threads: 1, source: "random"), to: path, logger: Logger(label: "test"))
        let model = try KioskModel(path: path)
        let q = model.header.quantization
        let backend = try XNNPackBackend(model: model, threads: 1 + seed % 2, observing: [1, 2, 3, 4])
        let x8 = Self.interleaved(x, input, q[0]!)
        _ = backend.input.update(fromContentsOf: x8)
        try logits.withUnsafeMutableBufferPointer { try backend.run(logits: $0) }

        let what = geometry.description
        let dequantized = model.dequantizedNetwork()
        guard case .convolution(let qa) = dequantized.layers[0], case .convolution(let qb) = dequantized.layers[1] else {
            Issue.record("the model file lost its convolutions")
            return
        }
        let x32 = Self.planar(x8, input, q[0]!)
        let t1 = Reference.referenceConvolution(x32, input, qa, convolved)
        #expect(Self.steps(backend.observed(1), Self.interleaved(t1, convolved, q[1]!)) <= 1, "convolution \(what)")
        let t2 = Reference.referenceConvolution(x32, input, qb, convolved)
        #expect(Self.steps(backend.observed(2), Self.interleaved(t2, convolved, q[2]!)) <= 1, "convolution \(what)")

        let (o1, o2) = (backend.observed(1) ?? [], backend.observed(2) ?? [])
        let t3 = zip(Self.planar(o1, convolved, q[1]!), Self.planar(o2, convolved, q[2]!)).map { sum.relu ? max($0 + $1, 0) : $0 + $1 }
        #expect(Self.steps(backend.observed(3), Self.interleaved(t3, convolved, q[3]!)) <= 1, "add (relu \(sum.relu)) \(what)")

        let t4 = Reference.referenceMaxPool(Self.planar(backend.observed(3) ?? [], convolved, q[3]!), convolved, pool, pooled)
        #expect(Self.steps(backend.observed(4), Self.interleaved(t4, pooled, q[4]!)) == 0, "max pool k\(kernel) s\(stride) p\(pool.padding) after \(what)")

        let p4 = Self.planar(backend.observed(4) ?? [], pooled, q[4]!)
        let n = pooled.height * pooled.width
        let t5 = (0..<outC).map { ch in p4[(ch * n)..<((ch + 1) * n)].reduce(0, +) / Float(n) }
        #expect(Self.steps(backend.pooledValues, Self.interleaved(t5, features, q[5]!)) <= 1, "global average \(what)")

        let f = backend.pooledValues.map { q[5]!.dequantize($0) }
        let t6 = (0..<6).map { o in fc.bias[o] + (0..<outC).reduce(Float(0)) { $0 + fc.weights[o * outC + $1] * f[$1] } }
        #expect(Reference.close(logits, t6), "fully connected \(what)")
    }
}
