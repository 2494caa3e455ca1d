/// The engine's validated graph: a ResNet-family network with batch 1, BatchNormalization folded into
/// convolutions and ReLU fused into the layer before it. Tensors are identified by index; tensor 0 is the input.
///
/// Weights are fp32 here (as imported); `QuantizedModel` holds the int8 form.
public struct Network: Sendable {
    /// Channels, height, width of one activation tensor (batch is always 1).
    public struct Shape: Sendable, Hashable, Codable {
        public var channels: Int
        public var height: Int
        public var width: Int
        public var count: Int { channels * height * width }

        public init(channels: Int, height: Int, width: Int) {
            self.channels = channels
            self.height = height
            self.width = width
        }
    }

    public struct Convolution: Sendable {
        public var input: Int
        public var output: Int
        public var outputChannels: Int
        public var inputChannelsPerGroup: Int
        public var groups: Int
        public var kernelHeight: Int
        public var kernelWidth: Int
        public var strideHeight: Int
        public var strideWidth: Int
        public var dilationHeight: Int
        public var dilationWidth: Int
        /// Implicit zero padding: top, left, bottom, right.
        public var padding: [Int]
        /// OIHW (ONNX order).
        public var weights: [Float]
        public var bias: [Float]
        public var relu: Bool
        /// Per-output-channel weight scales fixed by an already-quantized (QDQ) model; nil means calibrate.
        public var presetWeightScales: [Float]?
    }

    public struct Pooling: Sendable {
        public var input: Int
        public var output: Int
        public var kernel: Int
        public var stride: Int
        /// top, left, bottom, right
        public var padding: [Int]
    }

    public struct Addition: Sendable {
        public var inputs: (Int, Int)
        public var output: Int
        public var relu: Bool
    }

    public struct FullyConnected: Sendable {
        public var input: Int
        public var output: Int
        public var inputCount: Int
        public var outputCount: Int
        /// [output][input]
        public var weights: [Float]
        public var bias: [Float]
    }

    public enum Layer: Sendable {
        case convolution(Convolution)
        case maxPool(Pooling)
        case add(Addition)
        case globalAveragePool(input: Int, output: Int)
        case fullyConnected(FullyConnected)

        public var output: Int {
            switch self {
            case .convolution(let c): c.output
            case .maxPool(let p): p.output
            case .add(let a): a.output
            case .globalAveragePool(_, let output): output
            case .fullyConnected(let f): f.output
            }
        }

        public var inputs: [Int] {
            switch self {
            case .convolution(let c): [c.input]
            case .maxPool(let p): [p.input]
            case .add(let a): [a.inputs.0, a.inputs.1]
            case .globalAveragePool(let input, _): [input]
            case .fullyConnected(let f): [f.input]
            }
        }
    }

    public var shapes: [Shape]
    public var layers: [Layer]
    /// Quantization fixed by a QDQ model for some tensors (by index).
    public var presetActivations: [Int: QuantizationParameters]

    public var input: Shape { shapes[0] }
    public var classCount: Int {
        guard case .fullyConnected(let fc) = layers.last else { return shapes[layers.last!.output].count }
        return fc.outputCount
    }

    /// Checks the shape the int8 backend relies on: … → GlobalAveragePool → FullyConnected (logits).
    func validateClassifierHead() throws(InferenceError) {
        guard layers.count >= 2, case .fullyConnected(let fc) = layers[layers.count - 1],
            case .globalAveragePool(_, let pooled) = layers[layers.count - 2], fc.input == pooled
        else {
            throw .invalidGraph(reason: "the network must end with GlobalAveragePool followed by a fully connected layer")
        }
    }
}
