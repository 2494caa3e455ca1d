#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftProtobuf

/// Turns an ONNX ResNet-family graph (fp32, or QDQ as written by ONNX Runtime's `quantize_static`) into a
/// `Network`: BatchNormalization folded into Conv, Relu fused, Q/DQ pairs turned into preset quantization.
public enum ONNXImporter {
    /// Operators the importer understands, for the error message.
    static let supported = [
        "Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Reshape", "Squeeze",
        "Gemm", "MatMul", "QuantizeLinear", "DequantizeLinear", "Identity", "Dropout", "Constant",
    ]

    /// Reads and imports an ONNX file.
    /// - Throws: `InferenceError.io`, `.malformedONNX`, `.unsupportedOperator`, `.invalidGraph`.
    public static func load(path: String) throws(InferenceError) -> Network {
        // An empty file is refused before it is read: Foundation's mapped read of a zero-byte file leaks its 4 KiB
        // buffer (found by the onnx fuzz target, Fuzz/crashes/onnx/).
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if size == 0 { throw .malformedONNX(path: path, reason: "file is empty") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw .io(path: path, reason: "cannot read file (\(error.localizedDescription))")
        }
        if data.isEmpty { throw .malformedONNX(path: path, reason: "file is empty") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw .malformedONNX(path: path, reason: "protobuf decoding failed: \(error)")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw .malformedONNX(path: path, reason: "it contains no graph")
        }
        var builder = GraphBuilder(graph: model.graph)
        return try builder.build()
    }
}

/// One pass over the nodes (ONNX requires them in topological order).
private struct GraphBuilder {
    enum Value {
        case activation(Int)
        case constant(ONNXConstant)
    }

    let graph: Onnx_GraphProto
    var values: [String: Value] = [:]
    var shapes: [Network.Shape] = []
    var layers: [Network.Layer] = []
    /// Which layer wrote each tensor.
    var producer: [Int: Int] = [:]
    var consumers: [String: Int] = [:]
    var presets: [Int: QuantizationParameters] = [:]

    init(graph: Onnx_GraphProto) {
        self.graph = graph
        for node in graph.node {
            for input in node.input where !input.isEmpty { consumers[input, default: 0] += 1 }
        }
        for output in graph.output { consumers[output.name, default: 0] += 1 }
    }

    mutating func build() throws(InferenceError) -> Network {
        for initializer in graph.initializer {
            let dims = initializer.dims.map { Int($0) }
            if dims.contains(where: { $0 < 0 }) {
                throw .invalidGraph(reason: "initializer '\(initializer.name)' has a negative dimension")
            }
            values[initializer.name] = .constant(
                ONNXConstant(dims: dims, values: try initializer.floats(node: initializer.name)))
        }
        let inputs = graph.input.filter { values[$0.name] == nil }
        guard inputs.count == 1 else {
            throw .invalidGraph(reason: "expected one image input, found \(inputs.count)")
        }
        shapes.append(try inputShape(inputs[0]))
        values[inputs[0].name] = .activation(0)

        for node in graph.node {
            try add(node)
        }
        guard graph.output.count == 1, case .activation(let out)? = values[graph.output[0].name] else {
            throw .invalidGraph(reason: "expected one output computed from the image")
        }
        guard let last = layers.last, last.output == out else {
            throw .invalidGraph(reason: "the graph's output is not written by its last layer")
        }
        let network = Network(shapes: shapes, layers: layers, presetActivations: presets)
        try network.validateClassifierHead()
        return network
    }

    private func inputShape(_ info: Onnx_ValueInfoProto) throws(InferenceError) -> Network.Shape {
        let dims = info.type.tensorType.shape.dim
        guard dims.count == 4 else {
            throw .invalidGraph(reason: "input '\(info.name)' has \(dims.count) dimensions, expected NCHW (4)")
        }
        func value(_ i: Int, default fallback: Int) -> Int {
            if case .dimValue(let v)? = dims[i].value, v > 0 { return Int(v) }
            return fallback
        }
        if value(0, default: 1) != 1 { throw .invalidGraph(reason: "input batch must be 1 or symbolic") }
        let shape = Network.Shape(channels: value(1, default: 3), height: value(2, default: 224), width: value(3, default: 224))
        guard shape.channels == 3 else {
            throw .invalidGraph(reason: "input has \(shape.channels) channels, expected 3 (RGB)")
        }
        return shape
    }

    // MARK: - Nodes

    private mutating func add(_ node: Onnx_NodeProto) throws(InferenceError) {
        // Every operator here writes its first output (found by the onnx fuzz target: a node without one trapped).
        guard let output = node.output.first, !output.isEmpty else {
            throw .invalidGraph(reason: "\(node.opType) '\(label(node))' has no output")
        }
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw .unsupportedOperator(op: "\(node.domain).\(node.opType)", node: label(node), reason: "custom operator domain")
        }
        switch node.opType {
        case "Conv": try convolution(node)
        case "BatchNormalization": try batchNormalization(node)
        case "Relu": try relu(node)
        case "MaxPool": try maxPool(node)
        case "Add": try addition(node)
        case "GlobalAveragePool":
            let input = try activation(node, 0)
            let s = shapes[input]
            append(.globalAveragePool(input: input, output: shapes.count), shape: .init(channels: s.channels, height: 1, width: 1), node: node)
        case "Flatten", "Reshape", "Squeeze", "Identity", "Dropout":
            if node.opType == "Identity" || node.opType == "Dropout", let first = node.input.first, isConstant(first) {
                // PyTorch's exporter shares equal initializers (e.g. two all-zero BN biases) through Identity.
                values[node.output[0]] = values[first]
                return
            }
            let input = try activation(node, 0)
            if node.opType != "Identity" && node.opType != "Dropout" {
                let s = shapes[input]
                guard s.height == 1 && s.width == 1 else {
                    throw .unsupportedOperator(op: node.opType, node: label(node), reason: "only flattening a 1x1 feature map is supported")
                }
            }
            values[node.output[0]] = .activation(input)
        case "Gemm": try gemm(node)
        case "MatMul": try matMul(node)
        case "QuantizeLinear": try quantizeLinear(node)
        case "DequantizeLinear": try dequantizeLinear(node)
        case "Constant":
            guard let attr = node.attribute.first(where: { $0.name == "value" }), attr.hasT else {
                throw .unsupportedOperator(op: "Constant", node: label(node), reason: "only tensor constants are supported")
            }
            values[node.output[0]] = .constant(ONNXConstant(dims: attr.t.dims.map { Int($0) }, values: try attr.t.floats(node: label(node))))
        default:
            throw .unsupportedOperator(
                op: node.opType, node: label(node),
                reason: "the kiosk engine implements \(ONNXImporter.supported.joined(separator: ", "))")
        }
    }

    private func isConstant(_ name: String) -> Bool {
        if case .constant? = values[name] { return true }
        return false
    }

    private mutating func append(_ layer: Network.Layer, shape: Network.Shape, node: Onnx_NodeProto) {
        shapes.append(shape)
        producer[shapes.count - 1] = layers.count
        layers.append(layer)
        values[node.output[0]] = .activation(shapes.count - 1)
    }

    private mutating func convolution(_ node: Onnx_NodeProto) throws(InferenceError) {
        let input = try activation(node, 0)
        let w = try constant(node, 1)
        guard w.dims.count == 4 else {
            throw .unsupportedOperator(op: "Conv", node: label(node), reason: "only 2-D convolution is supported")
        }
        let s = shapes[input]
        let groups = try int(node, "group", default: 1)
        let (outC, inCPerGroup, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3])
        guard groups >= 1, inCPerGroup * groups == s.channels, outC % groups == 0 else {
            throw .invalidGraph(reason: "Conv '\(label(node))': weights \(w.dims) do not fit an input of \(s.channels) channels in \(groups) groups")
        }
        let strides = try ints(node, "strides", default: [1, 1])
        let dilations = try ints(node, "dilations", default: [1, 1])
        var pads = try ints(node, "pads", default: [0, 0, 0, 0])
        let autoPad = string(node, "auto_pad") ?? "NOTSET"
        if autoPad != "NOTSET" && autoPad != "VALID" {
            throw .unsupportedOperator(op: "Conv", node: label(node), reason: "auto_pad \(autoPad) is not supported")
        }
        if autoPad == "VALID" { pads = [0, 0, 0, 0] }
        guard strides.count == 2, dilations.count == 2, pads.count == 4, strides.allSatisfy({ $0 > 0 }),
            dilations.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 })
        else {
            throw .unsupportedOperator(op: "Conv", node: label(node), reason: "strides, dilations or pads are not 2-D")
        }
        if let shape = try? ints(node, "kernel_shape", default: [kh, kw]), shape != [kh, kw] {
            throw .invalidGraph(reason: "Conv '\(label(node))': kernel_shape \(shape) differs from the weights \([kh, kw])")
        }
        var bias = [Float](repeating: 0, count: outC)
        if node.input.count > 2 && !node.input[2].isEmpty {
            let b = try constant(node, 2)
            guard b.count == outC else { throw .invalidGraph(reason: "Conv '\(label(node))': bias has \(b.count) values for \(outC) channels") }
            bias = b.values
        }
        // ONNX pads are [top, left, bottom, right].
        let oh = (s.height + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1
        let ow = (s.width + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1
        guard oh > 0 && ow > 0 else { throw .invalidGraph(reason: "Conv '\(label(node))' produces an empty output") }
        var preset: [Float]? = nil
        if let scales = w.quantizationScales {
            preset = scales.count == 1 ? [Float](repeating: scales[0], count: outC) : scales
        }
        let conv = Network.Convolution(
            input: input, output: shapes.count, outputChannels: outC, inputChannelsPerGroup: inCPerGroup, groups: groups,
            kernelHeight: kh, kernelWidth: kw, strideHeight: strides[0], strideWidth: strides[1],
            dilationHeight: dilations[0], dilationWidth: dilations[1], padding: pads, weights: w.values, bias: bias,
            relu: false, presetWeightScales: preset)
        append(.convolution(conv), shape: .init(channels: outC, height: oh, width: ow), node: node)
    }

    private mutating func batchNormalization(_ node: Onnx_NodeProto) throws(InferenceError) {
        let input = try activation(node, 0)
        guard let index = producer[input], case .convolution(var conv) = layers[index], !conv.relu,
            consumers[node.input[0]] == 1
        else {
            throw .unsupportedOperator(
                op: "BatchNormalization", node: label(node), reason: "only a BatchNormalization right after a Conv can be folded")
        }
        let (scale, beta, mean, variance) = (try constant(node, 1), try constant(node, 2), try constant(node, 3), try constant(node, 4))
        let c = conv.outputChannels
        guard [scale.count, beta.count, mean.count, variance.count].allSatisfy({ $0 == c }) else {
            throw .invalidGraph(reason: "BatchNormalization '\(label(node))' has parameters for other than \(c) channels")
        }
        let epsilon = try float(node, "epsilon", default: 1e-5)
        let perChannel = conv.weights.count / c
        for o in 0..<c {
            let factor = scale.values[o] / (variance.values[o] + epsilon).squareRoot()
            for i in 0..<perChannel { conv.weights[o * perChannel + i] *= factor }
            conv.bias[o] = (conv.bias[o] - mean.values[o]) * factor + beta.values[o]
        }
        conv.presetWeightScales = nil
        layers[index] = .convolution(conv)
        values[node.output[0]] = .activation(input)
    }

    private mutating func relu(_ node: Onnx_NodeProto) throws(InferenceError) {
        let input = try activation(node, 0)
        guard consumers[node.input[0]] == 1, try fuseRelu(into: input) else {
            throw .unsupportedOperator(op: "Relu", node: label(node), reason: "only a Relu right after a Conv or Add is supported")
        }
        values[node.output[0]] = .activation(input)
    }

    /// Marks the layer writing `tensor` as followed by ReLU; false when that layer cannot fuse one.
    private mutating func fuseRelu(into tensor: Int) throws(InferenceError) -> Bool {
        guard let index = producer[tensor] else { return false }
        switch layers[index] {
        case .convolution(var conv):
            conv.relu = true
            layers[index] = .convolution(conv)
        case .add(var addition):
            addition.relu = true
            layers[index] = .add(addition)
        default:
            return false
        }
        return true
    }

    private mutating func maxPool(_ node: Onnx_NodeProto) throws(InferenceError) {
        let input = try activation(node, 0)
        let kernel = try ints(node, "kernel_shape", default: [])
        let strides = try ints(node, "strides", default: [1, 1])
        let pads = try ints(node, "pads", default: [0, 0, 0, 0])
        guard kernel.count == 2, kernel[0] == kernel[1], strides.count == 2, strides[0] == strides[1], pads.count == 4,
            try int(node, "ceil_mode", default: 0) == 0, try ints(node, "dilations", default: [1, 1]) == [1, 1],
            (string(node, "auto_pad") ?? "NOTSET") == "NOTSET", node.output.count == 1
        else {
            throw .unsupportedOperator(op: "MaxPool", node: label(node), reason: "only square, floor-mode, undilated pooling is supported")
        }
        let s = shapes[input]
        let oh = (s.height + pads[0] + pads[2] - kernel[0]) / strides[0] + 1
        let ow = (s.width + pads[1] + pads[3] - kernel[0]) / strides[0] + 1
        let pool = Network.Pooling(input: input, output: shapes.count, kernel: kernel[0], stride: strides[0], padding: pads)
        append(.maxPool(pool), shape: .init(channels: s.channels, height: oh, width: ow), node: node)
    }

    private mutating func addition(_ node: Onnx_NodeProto) throws(InferenceError) {
        guard node.input.count == 2 else { throw .invalidGraph(reason: "Add '\(label(node))' needs two inputs") }
        guard node.input.count >= 2 else { throw .invalidGraph(reason: "Add '\(label(node))' needs two inputs") }
        switch (values[node.input[0]], values[node.input[1]]) {
        case (.activation(let a)?, .activation(let b)?):
            guard shapes[a] == shapes[b] else {
                throw .unsupportedOperator(op: "Add", node: label(node), reason: "broadcasting between shapes is not supported")
            }
            append(.add(.init(inputs: (a, b), output: shapes.count, relu: false)), shape: shapes[a], node: node)
        case (.activation(let a)?, .constant(let bias)?), (.constant(let bias)?, .activation(let a)?):
            // MatMul + Add is how some exporters write a fully connected layer.
            guard let index = producer[a], case .fullyConnected(var fc) = layers[index], bias.count == fc.outputCount else {
                throw .unsupportedOperator(op: "Add", node: label(node), reason: "adding a constant is supported only as a MatMul bias")
            }
            for i in 0..<fc.outputCount { fc.bias[i] += bias.values[i] }
            layers[index] = .fullyConnected(fc)
            values[node.output[0]] = .activation(a)
        default:
            throw .invalidGraph(reason: "Add '\(label(node))' reads an undefined value")
        }
    }

    private mutating func gemm(_ node: Onnx_NodeProto) throws(InferenceError) {
        let input = try activation(node, 0)
        let b = try constant(node, 1)
        guard try int(node, "transA", default: 0) == 0, try float(node, "alpha", default: 1) == 1,
            try float(node, "beta", default: 1) == 1, b.dims.count == 2
        else {
            throw .unsupportedOperator(op: "Gemm", node: label(node), reason: "only Gemm with alpha=1, beta=1, transA=0 is supported")
        }
        let transB = try int(node, "transB", default: 0) == 1
        var bias: [Float]? = nil
        if node.input.count > 2 && !node.input[2].isEmpty { bias = try constant(node, 2).values }
        try fullyConnected(node, input: input, weights: b, transposed: transB, bias: bias)
    }

    private mutating func matMul(_ node: Onnx_NodeProto) throws(InferenceError) {
        let input = try activation(node, 0)
        let b = try constant(node, 1)
        guard b.dims.count == 2 else {
            throw .unsupportedOperator(op: "MatMul", node: label(node), reason: "only a matrix of weights is supported")
        }
        try fullyConnected(node, input: input, weights: b, transposed: false, bias: nil)
    }

    /// `weights` is [in, out], or [out, in] when `transposed`.
    private mutating func fullyConnected(
        _ node: Onnx_NodeProto, input: Int, weights: ONNXConstant, transposed: Bool, bias: [Float]?
    ) throws(InferenceError) {
        let inCount = shapes[input].count
        let (outCount, k) = transposed ? (weights.dims[0], weights.dims[1]) : (weights.dims[1], weights.dims[0])
        guard k == inCount else {
            throw .invalidGraph(reason: "\(node.opType) '\(label(node))': weights \(weights.dims) do not fit \(inCount) inputs")
        }
        var w = [Float](repeating: 0, count: outCount * inCount)
        for o in 0..<outCount {
            for i in 0..<inCount {
                w[o * inCount + i] = transposed ? weights.values[o * inCount + i] : weights.values[i * outCount + o]
            }
        }
        let b = bias ?? [Float](repeating: 0, count: outCount)
        guard b.count == outCount else { throw .invalidGraph(reason: "\(node.opType) '\(label(node))': bias size \(b.count) ≠ \(outCount)") }
        let fc = Network.FullyConnected(input: input, output: shapes.count, inputCount: inCount, outputCount: outCount, weights: w, bias: b)
        append(.fullyConnected(fc), shape: .init(channels: outCount, height: 1, width: 1), node: node)
    }

    // MARK: - QDQ

    private mutating func quantizeLinear(_ node: Onnx_NodeProto) throws(InferenceError) {
        let input = try activation(node, 0)
        let params = try activationQuantization(node)
        presets[input] = params
        // A quantized tensor whose range starts at 0 clamps like ReLU: ONNX Runtime drops the Relu node then.
        if params.range.lowerBound >= 0 { _ = try fuseRelu(into: input) }
        values[node.output[0]] = .activation(input)
    }

    private mutating func dequantizeLinear(_ node: Onnx_NodeProto) throws(InferenceError) {
        switch values[node.input[0]] {
        case .activation(let tensor)?:
            values[node.output[0]] = .activation(tensor)
        case .constant?:
            guard let tensor = graph.initializer.first(where: { $0.name == node.input[0] }) else {
                throw .unsupportedOperator(op: "DequantizeLinear", node: label(node), reason: "quantized constants must be initializers")
            }
            let q = try tensor.numbers(node: label(node))
            let scales = try constant(node, 1).values
            var zeros = [Float](repeating: 0, count: scales.count)
            if node.input.count > 2 && !node.input[2].isEmpty { zeros = try constant(node, 2).values }
            let dims = tensor.dims.map { Int($0) }
            let axis = try int(node, "axis", default: 1)
            guard scales.count == zeros.count, scales.count == 1 || (axis == 0 && dims.first == scales.count) else {
                throw .unsupportedOperator(op: "DequantizeLinear", node: label(node), reason: "only per-tensor or axis-0 scales are supported")
            }
            let inner = max(1, q.count / scales.count)
            var values = [Float](repeating: 0, count: q.count)
            for i in 0..<q.count {
                let c = scales.count == 1 ? 0 : i / inner
                values[i] = Float((q[i] - Double(zeros[c])) * Double(scales[c]))
            }
            let isWeight = tensor.dataType == Onnx_TensorProto.ElementType.int8.rawValue && zeros.allSatisfy { $0 == 0 }
            self.values[node.output[0]] = .constant(ONNXConstant(dims: dims, values: values, quantizationScales: isWeight ? scales : nil))
        case nil:
            throw .invalidGraph(reason: "DequantizeLinear '\(label(node))' reads undefined '\(node.input[0])'")
        }
    }

    private func activationQuantization(_ node: Onnx_NodeProto) throws(InferenceError) -> QuantizationParameters {
        let scale = try constant(node, 1)
        guard scale.count == 1, scale.values[0] > 0 else {
            throw .unsupportedOperator(op: node.opType, node: label(node), reason: "activations need one positive scale")
        }
        var zero: Int32 = 0
        var unsigned = true
        if node.input.count > 2 && !node.input[2].isEmpty {
            guard let z = try constant(node, 2).values.first, z.isFinite, (-128...255).contains(z) else {
                throw .unsupportedOperator(op: node.opType, node: label(node), reason: "the zero point is empty or not 8-bit")
            }
            zero = Int32(z)
            unsigned = graph.initializer.first { $0.name == node.input[2] }?.dataType != Onnx_TensorProto.ElementType.int8.rawValue
        }
        // uint8 with zero point z is int8 with zero point z - 128 and the same scale.
        return QuantizationParameters(scale: scale.values[0], zeroPoint: unsigned ? zero - 128 : zero)
    }

    // MARK: - Helpers

    private func label(_ node: Onnx_NodeProto) -> String { node.name.isEmpty ? (node.output.first ?? node.opType) : node.name }

    private func activation(_ node: Onnx_NodeProto, _ i: Int) throws(InferenceError) -> Int {
        guard i < node.input.count, case .activation(let id)? = values[node.input[i]] else {
            throw .invalidGraph(reason: "\(node.opType) '\(label(node))' input \(i) is not a computed tensor")
        }
        return id
    }

    private func constant(_ node: Onnx_NodeProto, _ i: Int) throws(InferenceError) -> ONNXConstant {
        guard i < node.input.count, case .constant(let c)? = values[node.input[i]] else {
            throw .unsupportedOperator(op: node.opType, node: label(node), reason: "input \(i) must be a constant (weights computed at run time are not supported)")
        }
        return c
    }

    private func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? {
        node.attribute.first { $0.name == name }
    }

    private func int(_ node: Onnx_NodeProto, _ name: String, default fallback: Int) throws(InferenceError) -> Int {
        guard let a = attribute(node, name) else { return fallback }
        return Int(a.i)
    }

    private func ints(_ node: Onnx_NodeProto, _ name: String, default fallback: [Int]) throws(InferenceError) -> [Int] {
        guard let a = attribute(node, name) else { return fallback }
        return a.ints.map { Int($0) }
    }

    private func float(_ node: Onnx_NodeProto, _ name: String, default fallback: Float) throws(InferenceError) -> Float {
        guard let a = attribute(node, name) else { return fallback }
        return a.f
    }

    private func string(_ node: Onnx_NodeProto, _ name: String) -> String? {
        guard let a = attribute(node, name) else { return nil }
        return String(decoding: a.s, as: UTF8.self)
    }
}
