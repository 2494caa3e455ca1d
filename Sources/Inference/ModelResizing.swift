#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension KioskModel {
    /// The same network and weights for a square input of `side` pixels, written to `path`. A ResNet's
    /// convolutions do not depend on the input size, so only the tensor shapes (worked out again layer by layer)
    /// and the preprocessing change; the activation ranges stay those calibrated at the model's own size. It is
    /// what `kiosk selftest` times as a 224 px ResNet50: its answers are close, not calibrated.
    public func writeResized(side: Int, to path: String) throws(InferenceError) {
        guard (32...1024).contains(side) else { throw .invalidGraph(reason: "input side \(side) is out of range (32-1024)") }
        var resized = header
        resized.shapes = try Self.shapes(of: header, side: side)
        let old = header.preprocessing
        resized.preprocessing.cropWidth = side
        resized.preprocessing.cropHeight = side
        resized.preprocessing.resizeShorterSide = (side * old.resizeShorterSide + old.cropWidth / 2) / max(1, old.cropWidth)
        resized.source = header.source + " (resized to \(side) px for timing)"
        // The weight blob as it is; its sections move with the header's new length.
        let bytes = file.bytes
        let headerLength = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        let blobStart = (16 + headerLength + 63) / 64 * 64
        let writer = ModelFileWriter(blob: Array(bytes[blobStart..<(bytes.count - Self.checksumSize)]))
        try writer.write(header: ModelFileWriter.shift(resized, by: -blobStart), to: path)
    }

    /// Every tensor's shape for an input of `side` x `side`, in the order the layers compute them.
    static func shapes(of header: ModelHeader, side: Int) throws(InferenceError) -> [Network.Shape] {
        var shapes = header.shapes
        shapes[0] = .init(channels: shapes[0].channels, height: side, width: side)
        func out(_ n: Int, kernel: Int, stride: Int, dilation: Int, before: Int, after: Int) -> Int {
            (n + before + after - dilation * (kernel - 1) - 1) / max(1, stride) + 1
        }
        for layer in header.layers {
            switch layer {
            case .convolution(let c):
                let i = shapes[c.input]
                shapes[c.output] = .init(
                    channels: c.outputChannels,
                    height: out(i.height, kernel: c.kernelHeight, stride: c.strideHeight, dilation: c.dilationHeight, before: c.padding[0], after: c.padding[2]),
                    width: out(i.width, kernel: c.kernelWidth, stride: c.strideWidth, dilation: c.dilationWidth, before: c.padding[1], after: c.padding[3]))
            case .maxPool(let input, let output, let kernel, let stride, let padding):
                let i = shapes[input]
                shapes[output] = .init(
                    channels: i.channels,
                    height: out(i.height, kernel: kernel, stride: stride, dilation: 1, before: padding[0], after: padding[2]),
                    width: out(i.width, kernel: kernel, stride: stride, dilation: 1, before: padding[1], after: padding[3]))
            case .add(let a, let b, let output, _):
                guard shapes[a] == shapes[b] else { throw .invalidGraph(reason: "an addition's inputs differ in shape at \(side) px") }
                shapes[output] = shapes[a]
            case .globalAveragePool(let input, let output):
                shapes[output] = .init(channels: shapes[input].channels, height: 1, width: 1)
            case .fullyConnected:
                break
            }
        }
        if let bad = shapes.first(where: { $0.height < 1 || $0.width < 1 }) {
            throw .invalidGraph(reason: "\(side) px is too small for this network (a tensor of \(bad.width)x\(bad.height))")
        }
        return shapes
    }
}
