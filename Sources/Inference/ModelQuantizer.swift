import Imaging
import KioskCore
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns an imported network into the kiosk's int8 model file: per-output-channel int8 weights, int8
/// activations with ranges calibrated on real pictures through the fp32 reference backend (or taken from a QDQ
/// model), int32 biases, the fp32 classifier head, labels and preprocessing.
public enum ModelQuantizer {
    public struct Options: Sendable {
        /// Percentile of activation values kept inside the int8 range; nil for plain min/max.
        public var percentile: Double?
        public var threads: Int
        public var source: String

        public init(percentile: Double? = 99.999, threads: Int, source: String) {
            self.percentile = percentile
            self.threads = threads
            self.source = source
        }
    }

    public struct Report: Sendable {
        public var picturesUsed: Int
        public var calibratedTensors: Int
        public var presetTensors: Int
        public var method: String
    }

    /// Calibrates (where the network has no preset ranges) and writes the model file to `path`.
    /// - Throws: `InferenceError.calibration` (no or unreadable pictures, label count), `.io`.
    public static func quantize(
        network: Network, labels: [String], preprocessing: Preprocessing, calibrationPictures: [String],
        options: Options, to path: String, logger: Logger
    ) throws(InferenceError) -> Report {
        guard labels.count == network.classCount else {
            throw .calibration(reason: "the labels file has \(labels.count) labels, the model has \(network.classCount) outputs")
        }
        try network.validateClassifierHead()
        let method: ActivationCalibrator.Method = options.percentile.map { .percentile($0) } ?? .minMax
        let pooled = network.layers[network.layers.count - 2].output
        let quantized = Array(0...pooled)  // tensors the int8 backend stores; the logits stay fp32
        let needCalibration = quantized.contains { network.presetActivations[$0] == nil && !isPoolOutput($0, network) }

        var calibrator = ActivationCalibrator(tensorCount: network.shapes.count)
        if needCalibration {
            guard !calibrationPictures.isEmpty else {
                throw .calibration(reason: "no calibration pictures (JPEG or PNG) were given")
            }
            let backend = FP32Backend(network: network, threads: options.threads)
            var input = [Float](repeating: 0, count: network.input.count)
            var logits = [Float](repeating: 0, count: network.classCount)
            for (index, picture) in calibrationPictures.enumerated() {
                let image: RGBImage
                do {
                    image = try ImageDecoder.decode(file: picture, minimumShorterSide: preprocessing.resizeShorterSide)
                } catch {
                    throw .calibration(reason: error.description)
                }
                input.withUnsafeMutableBufferPointer { preprocessing.writePlanar(preprocessing.crop(image), into: $0) }
                input.withUnsafeBufferPointer { inputBuffer in
                    logits.withUnsafeMutableBufferPointer { out in
                        backend.run(input: inputBuffer, logits: out) { tensor, values in
                            if tensor <= pooled { calibrator.observe(tensor, values) }
                        }
                    }
                }
                calibrator.finishPicture()
                logger.debug("calibrated", metadata: ["picture": "\(index + 1)/\(calibrationPictures.count)"])
            }
        }

        var activations = [QuantizationParameters?](repeating: nil, count: network.shapes.count)
        var presetCount = 0
        for tensor in quantized {
            if let preset = network.presetActivations[tensor] {
                activations[tensor] = preset
                presetCount += 1
            } else if !isPoolOutput(tensor, network) {
                activations[tensor] = calibrator.parameters(for: tensor, method: method)
            }
        }
        if network.presetActivations[0] == nil {
            // The input range is known exactly from the normalisation: no need to estimate it.
            let lo = (0..<3).map { -preprocessing.mean[$0] / preprocessing.std[$0] }.min()!
            let hi = (0..<3).map { (1 - preprocessing.mean[$0]) / preprocessing.std[$0] }.max()!
            activations[0] = QuantizationParameters(min: lo, max: hi)
        }
        // A QDQ model may quantize its logits too; keep that step so the kiosk answers as the model specifies.
        let logitsTensor = network.layers[network.layers.count - 1].output
        if let preset = network.presetActivations[logitsTensor] { activations[logitsTensor] = preset }
        // Max pooling only selects values: XNNPACK needs its output quantized like its input.
        for layer in network.layers {
            if case .maxPool(let p) = layer { activations[p.output] = activations[p.input] }
        }

        var writer = ModelFileWriter()
        var records: [ModelHeader.Layer] = []
        for layer in network.layers {
            switch layer {
            case .convolution(let c):
                records.append(.convolution(quantize(c, input: activations[c.input]!, writer: &writer)))
            case .maxPool(let p):
                records.append(.maxPool(input: p.input, output: p.output, kernel: p.kernel, stride: p.stride, padding: p.padding))
            case .add(let a):
                records.append(.add(a: a.inputs.0, b: a.inputs.1, output: a.output, relu: a.relu))
            case .globalAveragePool(let input, let output):
                records.append(.globalAveragePool(input: input, output: output))
            case .fullyConnected(let f):
                records.append(.fullyConnected(.init(
                    input: f.input, output: f.output, inputCount: f.inputCount, outputCount: f.outputCount,
                    weights: writer.append(f.weights), bias: writer.append(f.bias))))
            }
        }
        let description =
            needCalibration
            ? "\(method) on \(calibrator.pictures) pictures, per-channel symmetric int8 weights"
            : "ranges from the QDQ model"
        let header = ModelHeader(
            labels: labels, preprocessing: preprocessing, shapes: network.shapes, quantization: activations,
            layers: records, source: options.source, calibration: description,
            created: Date().formatted(.iso8601))
        try writer.write(header: header, to: path)
        return Report(
            picturesUsed: calibrator.pictures, calibratedTensors: needCalibration ? quantized.count - presetCount : 0,
            presetTensors: presetCount, method: description)
    }

    private static func isPoolOutput(_ tensor: Int, _ network: Network) -> Bool {
        network.layers.contains { if case .maxPool(let p) = $0 { p.output == tensor } else { false } }
    }

    /// Per-output-channel symmetric int8 weights (OHWI) and int32 bias.
    private static func quantize(
        _ c: Network.Convolution, input: QuantizationParameters, writer: inout ModelFileWriter
    ) -> ModelHeader.ConvolutionRecord {
        let (kh, kw, ci) = (c.kernelHeight, c.kernelWidth, c.inputChannelsPerGroup)
        let perChannel = kh * kw * ci
        var weights = [Int8](repeating: 0, count: c.weights.count)
        var scales = [Float](repeating: 1, count: c.outputChannels)
        var bias = [Int32](repeating: 0, count: c.outputChannels)
        var biasScales = [Float](repeating: 1, count: c.outputChannels)
        for o in 0..<c.outputChannels {
            let row = c.weights[(o * perChannel)..<((o + 1) * perChannel)]
            let absMax = row.reduce(Float(0)) { max($0, abs($1)) }
            let scale = c.presetWeightScales?[o] ?? (absMax > 0 ? absMax / 127 : 1)
            scales[o] = scale
            for i in 0..<ci {
                for y in 0..<kh {
                    for x in 0..<kw {
                        let w = c.weights[((o * ci + i) * kh + y) * kw + x]
                        let q = max(-127, min(127, (w / scale).rounded()))
                        weights[((o * kh + y) * kw + x) * ci + i] = Int8(q)
                    }
                }
            }
            biasScales[o] = input.scale * scale
            let b = (Double(c.bias[o]) / Double(biasScales[o])).rounded()
            bias[o] = Int32(max(Double(Int32.min), min(Double(Int32.max), b)))
        }
        return ModelHeader.ConvolutionRecord(
            input: c.input, output: c.output, outputChannels: c.outputChannels, inputChannelsPerGroup: ci,
            groups: c.groups, kernelHeight: kh, kernelWidth: kw, strideHeight: c.strideHeight, strideWidth: c.strideWidth,
            dilationHeight: c.dilationHeight, dilationWidth: c.dilationWidth, padding: c.padding, relu: c.relu,
            weights: writer.append(weights), weightScales: writer.append(scales), bias: writer.append(bias),
            biasScales: writer.append(biasScales))
    }
}
