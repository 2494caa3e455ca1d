import Foundation
import Imaging
import Inference
import KioskCore
import Logging
import Testing

func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

func floats(_ name: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("kiosk-test-\(getpid())-\(name)").path
}

/// The small committed ResNet-shaped ONNX model (`scripts/oracle/make_tiny.py`): fast checks of every layer
/// kind, the model file and the error paths, without the 100 MB oracle fixtures.
struct TinyModelTests {
    let labels = ["cardboard", "glass", "trash"]

    func quantizedTinyModel(_ name: String) throws -> String {
        let path = temporaryPath(name)
        _ = try ModelQuantizer.quantize(
            network: try ONNXImporter.load(path: fixture("tiny-resnet.onnx")), labels: labels,
            preprocessing: .imageNet(inputWidth: 32, inputHeight: 32),
            calibrationPictures: [fixture("glass1.jpg"), fixture("glass1.png"), fixture("alpha64x48.png")],
            options: .init(threads: 1, source: "tiny-resnet.onnx"), to: path, logger: Logger(label: "test"))
        return path
    }

    @Test func fp32BackendMatchesONNXRuntimeOnEveryLayerKind() throws {
        let classifier = try ImageClassifier(modelPath: fixture("tiny-resnet.onnx"), backend: .fp32, threads: 1, labels: labels)
        let logits = try classifier.logits(planar: try floats("tiny-input.f32"))
        let reference = try floats("tiny-ort.f32")
        for (a, b) in zip(logits, reference) { #expect(abs(a - b) <= 1e-4 * max(1, abs(b))) }
    }

    /// The fp32 backend splits each convolution's columns across its threads: any team size gives the same logits,
    /// also when a layer has fewer columns than the team can share.
    @Test(arguments: [2, 3, 5])
    func fp32GivesTheSameLogitsOnAnyNumberOfThreads(threads: Int) throws {
        let input = try floats("tiny-input.f32")
        let one = try ImageClassifier(modelPath: fixture("tiny-resnet.onnx"), backend: .fp32, threads: 1, labels: labels)
        let team = try ImageClassifier(modelPath: fixture("tiny-resnet.onnx"), backend: .fp32, threads: threads, labels: labels)
        let reference = try one.logits(planar: input)
        for _ in 0..<3 {
            let logits = try team.logits(planar: input)
            for (a, b) in zip(logits, reference) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        }
    }

    @Test func int8ModelFileRoundTripsAndStaysCloseToFP32() throws {
        let path = try quantizedTinyModel("roundtrip.kmodel")
        defer { unlink(path) }
        let model = try KioskModel(path: path)
        #expect(model.labels == labels)
        #expect(model.checksum.count == 64)
        #expect(model.inputShape == Network.Shape(channels: 3, height: 32, width: 32))
        let photo = try ImageDecoder.decode(file: fixture("glass1.jpg"))
        let fp32 = try ImageClassifier(modelPath: fixture("tiny-resnet.onnx"), backend: .fp32, threads: 1, labels: labels)
        let int8 = try ImageClassifier(modelPath: path, backend: .int8, threads: 1)
        let reference = try fp32.logits(for: photo)
        let quantized = try int8.logits(for: photo)
        let dot = zip(reference, quantized).map { $0 * $1 }.reduce(0, +)
        let norms = reference.map { $0 * $0 }.reduce(0, +).squareRoot() * quantized.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(dot / norms > 0.99, "int8 \(quantized) vs fp32 \(reference)")
        // The same file also runs on the fp32 fallback (dequantized weights).
        let fallback = try ImageClassifier(modelPath: path, backend: .fp32, threads: 1)
        let dequantized = try fallback.logits(for: photo)
        for (a, b) in zip(dequantized, reference) { #expect(abs(a - b) < 0.05 * max(1, abs(b))) }
    }

    @Test func aDamagedModelFileIsRefused() throws {
        let path = try quantizedTinyModel("damaged.kmodel")
        defer { unlink(path) }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let original = bytes
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try KioskModel(path: path) } throws: { "\($0)".contains("checksum does not match") }

        bytes = original
        bytes[8] = 9  // format version 9
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try KioskModel(path: path) } throws: { "\($0)".contains("format version 9 is not supported") }

        try Data(original.prefix(original.count - 100)).write(to: URL(fileURLWithPath: path))
        #expect { try KioskModel(path: path) } throws: { "\($0)".contains("checksum does not match") }

        try Data().write(to: URL(fileURLWithPath: path))
        #expect { try KioskModel(path: path) } throws: { "\($0)".contains("file is empty") }
    }

    @Test func badONNXFilesAreNamedInTheError() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("tiny-resnet.onnx"))))
        let truncated = temporaryPath("truncated.onnx")
        defer { unlink(truncated) }
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: truncated))
        #expect { try ONNXImporter.load(path: truncated) } throws: { "\($0)".contains("not a valid ONNX model") }

        #expect {
            try ONNXImporter.load(path: fixture("tiny-sigmoid.onnx"))
        } throws: { error in
            guard case .unsupportedOperator("Sigmoid", _, _)? = error as? InferenceError else { return false }
            return "\(error)".hasPrefix("unsupported ONNX operator Sigmoid")
        }
        #expect { try ONNXImporter.load(path: fixture("empty.png")) } throws: { "\($0)".contains("file is empty") }
        #expect { try ONNXImporter.load(path: fixture("glass1.jpg")) } throws: { "\($0)".contains("not a valid ONNX model") }
    }

    @Test func aWrongInputShapeIsRefused() throws {
        let classifier = try ImageClassifier(modelPath: fixture("tiny-resnet.onnx"), backend: .fp32, threads: 1, labels: labels)
        #expect { try classifier.logits(planar: [Float](repeating: 0, count: 3 * 224 * 224)) } throws: { error in
            guard case .wrongInputShape(let expected, _)? = error as? InferenceError else { return false }
            return expected == [1, 3, 32, 32]
        }
    }

    @Test func anONNXModelNeedsQuantizingBeforeTheInt8Backend() {
        #expect {
            try ImageClassifier(modelPath: fixture("tiny-resnet.onnx"), backend: .int8, threads: 1)
        } throws: { "\($0)".contains("kiosk model quantize") }
    }
}
