import Crypto
import KioskCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A kiosk model file, mapped into memory and verified (magic, format version, SHA-256, section bounds).
///
/// Layout: `KIOSKMDL` · u32 format version · u32 header length · JSON header · padding to 64 ·
/// weight sections (64-byte aligned) · SHA-256 of everything before it (32 bytes).
public final class KioskModel: Sendable {
    public static let magic: [UInt8] = Array("KIOSKMDL".utf8)
    public static let formatVersion: UInt32 = 1
    static let checksumSize = 32

    public let path: String
    public let checksum: String
    public var labels: [String] { header.labels }
    public var preprocessing: Preprocessing { header.preprocessing }
    public var inputShape: Network.Shape { header.shapes[0] }
    public var fileSize: Int { file.bytes.count }
    public var source: String { header.source }
    public var calibration: String { header.calibration }
    public var created: String { header.created }
    let header: ModelHeader
    let file: MappedFile

    /// Maps and verifies a model file.
    /// - Throws: `InferenceError.io`, `.malformedModelFile`, `.unsupportedModelVersion`, `.checksumMismatch`.
    public init(path: String) throws(InferenceError) {
        self.path = path
        file = try MappedFile.model(path: path)
        let bytes = file.bytes
        guard bytes.count >= 16 + Self.checksumSize else {
            throw .malformedModelFile(path: path, reason: bytes.isEmpty ? "file is empty" : "file is too short (\(bytes.count) bytes)")
        }
        guard Array(bytes[0..<8]) == Self.magic else {
            throw .malformedModelFile(path: path, reason: "it does not start with KIOSKMDL")
        }
        let version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard version == Self.formatVersion else {
            throw .unsupportedModelVersion(path: path, found: version, supported: Self.formatVersion)
        }
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - Self.checksumSize)])
        let digest = Array(SHA256.hash(data: body))
        guard digest == Array(bytes[(bytes.count - Self.checksumSize)...]) else { throw .checksumMismatch(path: path) }
        checksum = Hex.encode(digest)

        let headerLength = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        guard 16 + headerLength <= body.count else { throw .malformedModelFile(path: path, reason: "header runs past the end") }
        do {
            header = try JSONDecoder().decode(ModelHeader.self, from: Data(bytes[16..<(16 + headerLength)]))
        } catch {
            throw .malformedModelFile(path: path, reason: "header is not valid: \(error)")
        }
        try validate(bodySize: body.count)
    }

    private func validate(bodySize: Int) throws(InferenceError) {
        func check(_ section: ModelHeader.Section, _ width: Int, _ expected: Int, _ what: String) throws(InferenceError) {
            guard section.count == expected, section.offset >= 16, section.offset % width == 0,
                section.offset + section.count * width <= bodySize
            else { throw .malformedModelFile(path: path, reason: "\(what) section is out of bounds or of the wrong size") }
        }
        let tensorCount = header.shapes.count
        guard tensorCount > 1, header.quantization.count == tensorCount, !header.labels.isEmpty else {
            throw .malformedModelFile(path: path, reason: "header lists no tensors or labels")
        }
        func tensor(_ id: Int) throws(InferenceError) {
            guard id >= 0 && id < tensorCount else { throw .malformedModelFile(path: path, reason: "layer refers to tensor \(id)") }
        }
        for layer in header.layers {
            switch layer {
            case .convolution(let c):
                try tensor(c.input)
                try tensor(c.output)
                let perChannel = c.kernelHeight * c.kernelWidth * c.inputChannelsPerGroup
                try check(c.weights, 1, c.outputChannels * perChannel, "convolution weights")
                try check(c.weightScales, 4, c.outputChannels, "weight scales")
                try check(c.bias, 4, c.outputChannels, "bias")
                try check(c.biasScales, 4, c.outputChannels, "bias scales")
                guard c.padding.count == 4, c.groups * c.inputChannelsPerGroup == header.shapes[c.input].channels,
                    header.shapes[c.output].channels == c.outputChannels
                else { throw .malformedModelFile(path: path, reason: "convolution geometry does not match its tensors") }
            case .maxPool(let input, let output, _, _, let padding):
                try tensor(input)
                try tensor(output)
                guard padding.count == 4 else { throw .malformedModelFile(path: path, reason: "pooling padding") }
            case .add(let a, let b, let output, _):
                try tensor(a)
                try tensor(b)
                try tensor(output)
            case .globalAveragePool(let input, let output):
                try tensor(input)
                try tensor(output)
            case .fullyConnected(let f):
                try tensor(f.input)
                try tensor(f.output)
                try check(f.weights, 4, f.inputCount * f.outputCount, "fully connected weights")
                try check(f.bias, 4, f.outputCount, "fully connected bias")
            }
        }
        guard case .fullyConnected(let head)? = header.layers.last, head.outputCount == header.labels.count else {
            throw .malformedModelFile(path: path, reason: "the last layer must be fully connected with one output per label")
        }
    }

    /// Typed view of a section; valid as long as this model is alive.
    func view<T>(_ section: ModelHeader.Section, as: T.Type) -> UnsafeBufferPointer<T> {
        let raw = UnsafeRawBufferPointer(rebasing: file.bytes[section.offset..<(section.offset + section.count * MemoryLayout<T>.stride)])
        return raw.assumingMemoryBound(to: T.self)
    }

    func array<T>(_ section: ModelHeader.Section, as type: T.Type) -> [T] { Array(view(section, as: type)) }

    /// The network with fp32 weights (int8 weights times their scales), for the fp32 fallback backend.
    public func dequantizedNetwork() -> Network {
        let layers: [Network.Layer] = header.layers.map { layer in
            switch layer {
            case .convolution(let c):
                let q = view(c.weights, as: Int8.self)
                let scales = view(c.weightScales, as: Float.self)
                let biasScales = view(c.biasScales, as: Float.self)
                let bias = view(c.bias, as: Int32.self)
                let (kh, kw, ci) = (c.kernelHeight, c.kernelWidth, c.inputChannelsPerGroup)
                var weights = [Float](repeating: 0, count: q.count)
                for o in 0..<c.outputChannels {
                    for y in 0..<kh {
                        for x in 0..<kw {
                            for i in 0..<ci {
                                // OHWI → OIHW
                                weights[((o * ci + i) * kh + y) * kw + x] = Float(q[((o * kh + y) * kw + x) * ci + i]) * scales[o]
                            }
                        }
                    }
                }
                return .convolution(Network.Convolution(
                    input: c.input, output: c.output, outputChannels: c.outputChannels, inputChannelsPerGroup: ci,
                    groups: c.groups, kernelHeight: kh, kernelWidth: kw, strideHeight: c.strideHeight,
                    strideWidth: c.strideWidth, dilationHeight: c.dilationHeight, dilationWidth: c.dilationWidth,
                    padding: c.padding, weights: weights,
                    bias: (0..<c.outputChannels).map { Float(bias[$0]) * biasScales[$0] }, relu: c.relu,
                    presetWeightScales: nil))
            case .maxPool(let input, let output, let kernel, let stride, let padding):
                return .maxPool(.init(input: input, output: output, kernel: kernel, stride: stride, padding: padding))
            case .add(let a, let b, let output, let relu):
                return .add(.init(inputs: (a, b), output: output, relu: relu))
            case .globalAveragePool(let input, let output):
                return .globalAveragePool(input: input, output: output)
            case .fullyConnected(let f):
                return .fullyConnected(.init(
                    input: f.input, output: f.output, inputCount: f.inputCount, outputCount: f.outputCount,
                    weights: array(f.weights, as: Float.self), bias: array(f.bias, as: Float.self)))
            }
        }
        return Network(shapes: header.shapes, layers: layers, presetActivations: [:])
    }
}
