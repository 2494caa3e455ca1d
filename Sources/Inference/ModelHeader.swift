/// The JSON header of a kiosk model file: everything but the weight bytes, which it points to by offset.
struct ModelHeader: Codable, Sendable {
    /// A run of `count` elements starting at byte `offset` of the file.
    struct Section: Codable, Sendable, Hashable {
        var offset: Int
        var count: Int
    }

    struct ConvolutionRecord: Codable, Sendable {
        var input: Int
        var output: Int
        var outputChannels: Int
        var inputChannelsPerGroup: Int
        var groups: Int
        var kernelHeight: Int
        var kernelWidth: Int
        var strideHeight: Int
        var strideWidth: Int
        var dilationHeight: Int
        var dilationWidth: Int
        /// top, left, bottom, right
        var padding: [Int]
        var relu: Bool
        /// int8, OHWI (XNNPACK's filter layout).
        var weights: Section
        /// fp32 per output channel.
        var weightScales: Section
        /// int32, in units of input scale x weight scale.
        var bias: Section
        /// fp32 input scale x weight scale, per output channel.
        var biasScales: Section
    }

    struct FullyConnectedRecord: Codable, Sendable {
        var input: Int
        var output: Int
        var inputCount: Int
        var outputCount: Int
        /// fp32 [output][input]
        var weights: Section
        /// fp32
        var bias: Section
    }

    enum Layer: Codable, Sendable {
        case convolution(ConvolutionRecord)
        case maxPool(input: Int, output: Int, kernel: Int, stride: Int, padding: [Int])
        case add(a: Int, b: Int, output: Int, relu: Bool)
        case globalAveragePool(input: Int, output: Int)
        case fullyConnected(FullyConnectedRecord)
    }

    var labels: [String]
    var preprocessing: Preprocessing
    var shapes: [Network.Shape]
    /// Per tensor; nil for tensors computed in fp32 (the logits).
    var quantization: [QuantizationParameters?]
    var layers: [Layer]
    /// Provenance, shown by `kiosk model info`.
    var source: String
    var calibration: String
    var created: String
}
