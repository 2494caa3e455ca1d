internal import CXNNPack
import Synchronization

/// The int8 path: the model's quantized layers as one XNNPACK subgraph (qint8 activations, qcint8 filters,
/// qcint32 biases), built once at load into a runtime with its own memory plan; the classifier head runs in
/// fp32 on the pooled features. `run` allocates nothing.
///
/// Only the Subgraph API is used (`xnn_define_*`, `xnn_create_runtime_v2`, `xnn_setup_runtime`,
/// `xnn_invoke_runtime`): it is the same in Debian bookworm's XNNPACK (2022) and trixie's (2024).
final class XNNPackBackend {
    let model: KioskModel
    let inputParameters: QuantizationParameters
    private let pooledParameters: QuantizationParameters
    /// Owns the runtime, the threadpool and the buffers; frees each once, whenever the backend goes or its
    /// construction fails part-way.
    private let resources: XNNPackResources
    private let runtime: xnn_runtime_t
    var input: UnsafeMutableBufferPointer<Int8> { resources.input }
    private var pooled: UnsafeMutableBufferPointer<Int8> { resources.pooled }
    private var features: UnsafeMutableBufferPointer<Float> { resources.features }
    private let head: ModelHeader.FullyConnectedRecord
    /// Set when the model quantizes its logits (a QDQ model can).
    private let logitsParameters: QuantizationParameters?

    private static let initialized: xnn_status = xnn_initialize(nil)

    /// An XNNPACK call that a test can make fail, to check the clean-up after it.
    enum InjectedFailure: Sendable {
        case createRuntime
        case setupRuntime
    }

    /// - Parameter observing: inner tensors to make external outputs as well, so a test can read each layer's
    ///   int8 output after `run` (`observed(_:)`); empty in the kiosk.
    /// - Throws: `InferenceError.xnnpack` naming the failing call, `.invalidGraph`.
    init(model: KioskModel, threads: Int, failing injected: InjectedFailure? = nil, observing: [Int] = []) throws(InferenceError) {
        self.model = model
        let header = model.header
        guard case .fullyConnected(let head)? = header.layers.last, header.layers.count >= 2,
            case .globalAveragePool(_, let pooledTensor) = header.layers[header.layers.count - 2],
            head.input == pooledTensor
        else { throw .invalidGraph(reason: "the int8 backend needs GlobalAveragePool then a fully connected head") }
        self.head = head
        logitsParameters = header.quantization[head.output]
        let status = Self.initialized
        guard status == xnn_status_success else { throw .xnnpack(call: "xnn_initialize", status: Int(status.rawValue)) }
        guard let inputQ = header.quantization[0], let pooledQ = header.quantization[pooledTensor] else {
            throw .invalidGraph(reason: "input or pooled features have no quantization")
        }
        inputParameters = inputQ
        pooledParameters = pooledQ

        // Whatever throws below releases `owned`, which frees what it holds by then, once.
        let observing = observing.filter { $0 > 0 && $0 < pooledTensor && header.quantization[$0] != nil }
        let owned = XNNPackResources(inputCount: header.shapes[0].count, pooledCount: header.shapes[pooledTensor].count,
                                     featureCount: head.inputCount, threads: threads,
                                     observed: observing.map { ($0, header.shapes[$0].count) })
        var subgraph: xnn_subgraph_t? = nil
        try Self.check("xnn_create_subgraph", xnn_create_subgraph(UInt32(2 + observing.count), 0, &subgraph))
        defer { xnn_delete_subgraph(subgraph) }
        try Self.define(model: model, pooledTensor: pooledTensor, observing: observing, in: subgraph!)
        var created: xnn_runtime_t? = nil
        try Self.check("xnn_create_runtime_v2",
                       injected == .createRuntime ? xnn_status_out_of_memory : xnn_create_runtime_v2(subgraph, owned.threadpool, 0, &created))
        owned.runtime = created
        let externals = [
            xnn_external_value(id: 0, data: UnsafeMutableRawPointer(owned.input.baseAddress!)),
            xnn_external_value(id: 1, data: UnsafeMutableRawPointer(owned.pooled.baseAddress!)),
        ] + observing.enumerated().map { n, tensor in
            xnn_external_value(id: UInt32(2 + n), data: UnsafeMutableRawPointer(owned.observed[tensor]!.baseAddress!))
        }
        try Self.check("xnn_setup_runtime",
                       injected == .setupRuntime ? xnn_status_invalid_parameter : xnn_setup_runtime(created, externals.count, externals))
        runtime = created!
        resources = owned
    }

    /// Runs on the quantized NHWC picture in `input` and writes the logits.
    func run(logits: UnsafeMutableBufferPointer<Float>) throws(InferenceError) {
        precondition(logits.count == head.outputCount, "wrong logits buffer")
        try Self.check("xnn_invoke_runtime", xnn_invoke_runtime(runtime))
        for i in 0..<features.count { features[i] = pooledParameters.dequantize(pooled[i]) }
        let weights = model.view(head.weights, as: Float.self)
        let bias = model.view(head.bias, as: Float.self)
        let n = head.inputCount
        for o in 0..<head.outputCount {
            var sum: Float = 0
            for i in 0..<n { sum += weights[o * n + i] * features[i] }
            logits[o] = sum + bias[o]
            if let q = logitsParameters { logits[o] = q.dequantize(q.quantize(logits[o])) }
        }
    }

    /// The int8 values of an observed tensor (NHWC) after the last `run`; nil for one not observed.
    func observed(_ tensor: Int) -> [Int8]? { resources.observed[tensor].map(Array.init) }

    /// The int8 values of the pooled features after the last `run`.
    var pooledValues: [Int8] { Array(pooled) }

    private static func check(_ call: String, _ status: xnn_status) throws(InferenceError) {
        if status != xnn_status_success { throw .xnnpack(call: call, status: Int(status.rawValue)) }
    }

    /// Adds every quantized tensor and layer up to the pooled features to the subgraph.
    private static func define(
        model: KioskModel, pooledTensor: Int, observing: [Int], in subgraph: xnn_subgraph_t
    ) throws(InferenceError) {
        let header = model.header
        var ids = [UInt32](repeating: XNN_INVALID_VALUE_ID, count: header.shapes.count)
        for tensor in 0...pooledTensor {
            guard let q = header.quantization[tensor] else { continue }
            let s = header.shapes[tensor]
            let dims = [1, s.height, s.width, s.channels]
            let observedAs = observing.firstIndex(of: tensor).map { UInt32(2 + $0) }
            let external: UInt32 = tensor == 0 ? 0 : tensor == pooledTensor ? 1 : observedAs ?? XNN_INVALID_VALUE_ID
            let flags: UInt32 =
                tensor == 0 ? UInt32(XNN_VALUE_FLAG_EXTERNAL_INPUT)
                : tensor == pooledTensor || observedAs != nil ? UInt32(XNN_VALUE_FLAG_EXTERNAL_OUTPUT) : 0
            try check(
                "xnn_define_quantized_tensor_value",
                xnn_define_quantized_tensor_value(subgraph, xnn_datatype_qint8, q.zeroPoint, q.scale, 4, dims, nil, external, flags, &ids[tensor]))
        }
        func id(_ tensor: Int) throws(InferenceError) -> UInt32 {
            guard ids[tensor] != XNN_INVALID_VALUE_ID else { throw .invalidGraph(reason: "tensor \(tensor) has no quantization") }
            return ids[tensor]
        }
        let unbounded = (-Float.infinity, Float.infinity)
        let positive = (Float(0), Float.infinity)
        for layer in header.layers.dropLast() {
            switch layer {
            case .convolution(let c):
                let weights = model.view(c.weights, as: Int8.self)
                let scales = model.view(c.weightScales, as: Float.self)
                let bias = model.view(c.bias, as: Int32.self)
                let biasScales = model.view(c.biasScales, as: Float.self)
                var filterID = XNN_INVALID_VALUE_ID
                var biasID = XNN_INVALID_VALUE_ID
                let filterDims = [c.outputChannels, c.kernelHeight, c.kernelWidth, c.inputChannelsPerGroup]
                try check(
                    "xnn_define_channelwise_quantized_tensor_value(filter)",
                    xnn_define_channelwise_quantized_tensor_value(
                        subgraph, xnn_datatype_qcint8, scales.baseAddress, 4, 0, filterDims, weights.baseAddress,
                        XNN_INVALID_VALUE_ID, 0, &filterID))
                try check(
                    "xnn_define_channelwise_quantized_tensor_value(bias)",
                    xnn_define_channelwise_quantized_tensor_value(
                        subgraph, xnn_datatype_qcint32, biasScales.baseAddress, 1, 0, [c.outputChannels], bias.baseAddress,
                        XNN_INVALID_VALUE_ID, 0, &biasID))
                let (lo, hi) = c.relu ? positive : unbounded
                // XNNPACK's padding order is top, right, bottom, left; ONNX's is top, left, bottom, right.
                try check(
                    "xnn_define_convolution_2d",
                    xnn_define_convolution_2d(
                        subgraph, UInt32(c.padding[0]), UInt32(c.padding[3]), UInt32(c.padding[2]), UInt32(c.padding[1]),
                        UInt32(c.kernelHeight), UInt32(c.kernelWidth), UInt32(c.strideHeight), UInt32(c.strideWidth),
                        UInt32(c.dilationHeight), UInt32(c.dilationWidth), UInt32(c.groups), c.inputChannelsPerGroup,
                        c.outputChannels / c.groups, lo, hi, try id(c.input), filterID, biasID, try id(c.output), 0))
            case .maxPool(let input, let output, let kernel, let stride, let p):
                try check(
                    "xnn_define_max_pooling_2d",
                    xnn_define_max_pooling_2d(
                        subgraph, UInt32(p[0]), UInt32(p[3]), UInt32(p[2]), UInt32(p[1]), UInt32(kernel), UInt32(kernel),
                        UInt32(stride), UInt32(stride), 1, 1, unbounded.0, unbounded.1, try id(input), try id(output), 0))
            case .add(let a, let b, let output, let relu):
                let (lo, hi) = relu ? positive : unbounded
                try check("xnn_define_add2", kiosk_xnn_define_add2(subgraph, lo, hi, try id(a), try id(b), try id(output), 0))
            case .globalAveragePool(let input, let output):
                try check(
                    "xnn_define_global_average_pooling_2d",
                    kiosk_xnn_define_global_average_pooling_2d(subgraph, unbounded.0, unbounded.1, try id(input), try id(output), 0))
            case .fullyConnected:
                throw .invalidGraph(reason: "a fully connected layer is supported only as the classifier head")
            }
        }
    }
}

@available(*, unavailable)
extension XNNPackBackend: Sendable {}

/// What one int8 backend holds of XNNPACK and the heap: made before the runtime, given the runtime once it exists,
/// and freed together, once, when the last reference goes.
final class XNNPackResources {
    let input: UnsafeMutableBufferPointer<Int8>
    let pooled: UnsafeMutableBufferPointer<Int8>
    let features: UnsafeMutableBufferPointer<Float>
    /// Inner tensors a test reads (`XNNPackBackend(observing:)`), by tensor id.
    let observed: [Int: UnsafeMutableBufferPointer<Int8>]
    let threadpool: pthreadpool_t?
    var runtime: xnn_runtime_t?

    /// How many exist now (tests check that a failed load leaves none behind).
    static let live = Atomic<Int>(0)

    init(inputCount: Int, pooledCount: Int, featureCount: Int, threads: Int, observed: [(tensor: Int, count: Int)] = []) {
        input = .allocate(capacity: inputCount)
        input.initialize(repeating: 0)
        pooled = .allocate(capacity: pooledCount)
        pooled.initialize(repeating: 0)
        features = .allocate(capacity: featureCount)
        features.initialize(repeating: 0)
        self.observed = Dictionary(uniqueKeysWithValues: observed.map { tensor, count in
            let buffer = UnsafeMutableBufferPointer<Int8>.allocate(capacity: count)
            buffer.initialize(repeating: 0)
            return (tensor, buffer)
        })
        threadpool = threads > 1 ? pthreadpool_create(threads) : nil
        Self.live.add(1, ordering: .relaxed)
    }

    deinit {
        if let runtime { xnn_delete_runtime(runtime) }
        if let threadpool { pthreadpool_destroy(threadpool) }
        input.deallocate()
        pooled.deallocate()
        features.deallocate()
        for buffer in observed.values { buffer.deallocate() }
        Self.live.subtract(1, ordering: .relaxed)
    }
}
