@testable import Inference
import Testing

/// Each fp32 layer against a naive reference written from the definitions (ncnn's habit), on random shapes,
/// kernels, strides, dilations, asymmetric paddings and groups: the optimised path (im2col + OpenBLAS, pointwise
/// shortcut, GemmTeam split) must agree with six nested loops on every tensor, not only on the logits.
@Suite struct LayerReferenceTests {
    /// SplitMix64, so every run tries the same shapes.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randoms(_ n: Int, _ g: inout Generator) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &g) } }

    static func referenceConvolution(_ input: [Float], _ s: Network.Shape, _ c: Network.Convolution, _ o: Network.Shape) -> [Float] {
        var out = [Float](repeating: 0, count: o.count)
        let perGroup = c.outputChannels / c.groups
        for oc in 0..<c.outputChannels {
            let group = oc / perGroup
            for oy in 0..<o.height {
                for ox in 0..<o.width {
                    var sum = c.bias[oc]
                    for icg in 0..<c.inputChannelsPerGroup {
                        let ic = group * c.inputChannelsPerGroup + icg
                        for ky in 0..<c.kernelHeight {
                            let y = oy * c.strideHeight - c.padding[0] + ky * c.dilationHeight
                            guard y >= 0 && y < s.height else { continue }
                            for kx in 0..<c.kernelWidth {
                                let x = ox * c.strideWidth - c.padding[1] + kx * c.dilationWidth
                                guard x >= 0 && x < s.width else { continue }
                                let w = c.weights[((oc * c.inputChannelsPerGroup + icg) * c.kernelHeight + ky) * c.kernelWidth + kx]
                                sum += w * input[(ic * s.height + y) * s.width + x]
                            }
                        }
                    }
                    out[(oc * o.height + oy) * o.width + ox] = c.relu ? max(sum, 0) : sum
                }
            }
        }
        return out
    }

    static func referenceMaxPool(_ input: [Float], _ s: Network.Shape, _ p: Network.Pooling, _ o: Network.Shape) -> [Float] {
        var out = [Float](repeating: 0, count: o.count)
        for ch in 0..<s.channels {
            for oy in 0..<o.height {
                for ox in 0..<o.width {
                    var best = -Float.infinity
                    for ky in 0..<p.kernel {
                        for kx in 0..<p.kernel {
                            let y = oy * p.stride - p.padding[0] + ky, x = ox * p.stride - p.padding[1] + kx
                            if y >= 0 && y < s.height && x >= 0 && x < s.width { best = max(best, input[(ch * s.height + y) * s.width + x]) }
                        }
                    }
                    out[(ch * o.height + oy) * o.width + ox] = best
                }
            }
        }
        return out
    }

    static func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }
    }

    /// input → two convolutions of the same geometry → add (± relu) → max pool → global average → fully connected.
    @Test(arguments: 0..<40)
    func everyLayerAgreesWithTheNaiveReference(_ seed: Int) {
        var g = Generator(state: UInt64(seed) &* 7919 &+ 1)
        let geometry = ConvolutionGeometry(&g)
        let (input, convolved, outC) = (geometry.input, geometry.output, geometry.outC)
        let (oh, ow) = (convolved.height, convolved.width)
        let a = geometry.convolution(output: 1, relu: Bool.random(using: &g), &g), b = geometry.convolution(output: 2, relu: false, &g)
        let sum = Network.Addition(inputs: (1, 2), output: 3, relu: Bool.random(using: &g))
        let kernel = min(Int.random(in: 1...3, using: &g), oh, ow), stride = Int.random(in: 1...2, using: &g)
        let pool = Network.Pooling(input: 3, output: 4, kernel: kernel, stride: stride,
                                   padding: [Int.random(in: 0..<kernel, using: &g), Int.random(in: 0..<kernel, using: &g)])
        let pooled = Network.Shape(channels: outC, height: (oh + 2 * pool.padding[0] - kernel) / stride + 1,
                                   width: (ow + 2 * pool.padding[1] - kernel) / stride + 1)
        let fc = Network.FullyConnected(input: 5, output: 6, inputCount: outC, outputCount: 6,
                                        weights: Self.randoms(6 * outC, &g), bias: Self.randoms(6, &g))
        let network = Network(
            shapes: [input, convolved, convolved, convolved, pooled, .init(channels: outC, height: 1, width: 1),
                     .init(channels: 6, height: 1, width: 1)],
            layers: [.convolution(a), .convolution(b), .add(sum), .maxPool(pool), .globalAveragePool(input: 4, output: 5),
                     .fullyConnected(fc)],
            presetActivations: [:])
        let x = Self.randoms(input.count, &g)
        var seen: [Int: [Float]] = [:]
        var logits = [Float](repeating: 0, count: 6)
        let backend = FP32Backend(network: network, threads: 2)
        x.withUnsafeBufferPointer { xs in
            logits.withUnsafeMutableBufferPointer { out in
                backend.run(input: xs, logits: out) { id, tensor in seen[id] = Array(tensor) }
            }
        }
        let what = geometry.description
        let t1 = Self.referenceConvolution(x, input, a, convolved), t2 = Self.referenceConvolution(x, input, b, convolved)
        #expect(Self.close(seen[1] ?? [], t1), "convolution \(what)")
        #expect(Self.close(seen[2] ?? [], t2), "convolution \(what)")
        let t3 = zip(t1, t2).map { sum.relu ? max($0 + $1, 0) : $0 + $1 }
        #expect(Self.close(seen[3] ?? [], t3), "add \(what)")
        let t4 = Self.referenceMaxPool(t3, convolved, pool, pooled)
        #expect(Self.close(seen[4] ?? [], t4), "max pool k\(kernel) s\(stride) p\(pool.padding) after \(what)")
        let n = pooled.height * pooled.width
        let t5 = (0..<outC).map { ch in t4[(ch * n)..<((ch + 1) * n)].reduce(0, +) / Float(n) }
        #expect(Self.close(seen[5] ?? [], t5), "global average \(what)")
        let t6 = (0..<6).map { o in fc.bias[o] + (0..<outC).reduce(Float(0)) { $0 + fc.weights[o * outC + $1] * t5[$1] } }
        #expect(Self.close(logits, t6), "fully connected \(what)")
    }
}

/// The random convolution both layer tests draw (the fp32 one and the int8 one), in one order: channels, groups,
/// kernel, stride, dilation, asymmetric padding, input size.
struct ConvolutionGeometry: CustomStringConvertible {
    let inC, outC, groups, kh, kw, sh, sw, dh, dw: Int
    let padding: [Int]
    let input: Network.Shape
    let output: Network.Shape

    /// - Parameter minimumOutputSide: 1, or 2 where a max pool follows on XNNPACK (which refuses a 1×1 window).
    init(_ g: inout LayerReferenceTests.Generator, minimumOutputSide: Int = 1) {
        inC = Int.random(in: 1...8, using: &g)
        groups = [1, inC, inC % 2 == 0 ? 2 : 1].randomElement(using: &g)!
        outC = groups * Int.random(in: 1...(groups == inC && inC > 1 ? 2 : 6), using: &g)
        (kh, kw) = ([1, 2, 3, 5, 7].randomElement(using: &g)!, [1, 2, 3, 5, 7].randomElement(using: &g)!)
        (sh, sw) = (Int.random(in: 1...3, using: &g), Int.random(in: 1...3, using: &g))
        (dh, dw) = (Int.random(in: 1...2, using: &g), Int.random(in: 1...2, using: &g))
        padding = (0..<4).map { _ in Int.random(in: 0...3, using: &g) }
        let extra = minimumOutputSide - 1
        let h = Int.random(in: (dh * (kh - 1) + 1 + extra * sh)...24, using: &g)
        let w = Int.random(in: (dw * (kw - 1) + 1 + extra * sw)...24, using: &g)
        input = Network.Shape(channels: inC, height: h, width: w)
        output = Network.Shape(channels: outC, height: (h + padding[0] + padding[2] - dh * (kh - 1) - 1) / sh + 1,
                               width: (w + padding[1] + padding[3] - dw * (kw - 1) - 1) / sw + 1)
    }

    /// A convolution of this geometry from tensor 0 with random weights and bias.
    func convolution(output tensor: Int, relu: Bool, _ g: inout LayerReferenceTests.Generator) -> Network.Convolution {
        Network.Convolution(
            input: 0, output: tensor, outputChannels: outC, inputChannelsPerGroup: inC / groups, groups: groups,
            kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw,
            padding: padding, weights: LayerReferenceTests.randoms(outC * (inC / groups) * kh * kw, &g),
            bias: LayerReferenceTests.randoms(outC, &g), relu: relu, presetWeightScales: nil)
    }

    var description: String {
        "\(inC)→\(outC) g\(groups) k\(kh)x\(kw) s\(sh)x\(sw) d\(dh)x\(dw) p\(padding) on \(input.height)x\(input.width)"
    }
}
