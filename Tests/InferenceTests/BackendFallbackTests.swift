import Foundation
import Imaging
import Testing

@testable import Inference

/// `kiosk run` keeps classifying on the fp32 reference when XNNPACK cannot run on the machine (a fault at the
/// hardware edge, injected here), but shows a damaged model's own error rather than trying fp32 on it.
struct BackendFallbackTests {
    let tiny = TinyModelTests()

    @Test func anXNNPACKFailureFallsBackToFP32OnTheSameFile() throws {
        let path = try tiny.quantizedTinyModel("fallback.kmodel")
        defer { unlink(path) }
        var tried: [ImageClassifier.Backend] = []
        let (classifier, failure) = try BackendFallback.load(preferred: .int8) { (backend) throws(InferenceError) in
            tried.append(backend)
            if backend == .int8 { throw .xnnpack(call: "xnn_initialize", status: 5) }
            return try ImageClassifier(modelPath: path, backend: backend, threads: 1)
        }
        #expect(tried == [.int8, .fp32])
        #expect(classifier.backend == .fp32)
        #expect(failure.map { "\($0)".contains("xnn_initialize") } == true)
        // And it classifies: the same answer as the int8 engine gives on this machine.
        let photo = try ImageDecoder.decode(file: fixture("glass1.jpg"))
        let int8 = try ImageClassifier(modelPath: path, backend: .int8, threads: 1)
        #expect(try classifier.classify(photo).top.label == int8.classify(photo).top.label)
    }

    @Test func int8ThatWorksIsKept() throws {
        let path = try tiny.quantizedTinyModel("kept.kmodel")
        defer { unlink(path) }
        let (classifier, failure) = try BackendFallback.load(preferred: .int8) { (backend) throws(InferenceError) in
            try ImageClassifier(modelPath: path, backend: backend, threads: 1)
        }
        #expect(classifier.backend == .int8)
        #expect(failure == nil)
    }

    @Test func aDamagedModelIsNotRetriedOnFP32() throws {
        let path = try tiny.quantizedTinyModel("damaged-fallback.kmodel")
        defer { unlink(path) }
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var tried: [ImageClassifier.Backend] = []
        #expect { () throws in
            _ = try BackendFallback.load(preferred: .int8) { (backend) throws(InferenceError) in
                tried.append(backend)
                return try ImageClassifier(modelPath: path, backend: backend, threads: 1)
            }
        } throws: { "\($0)".contains("checksum does not match") }
        #expect(tried == [.int8])
    }

    @Test func fp32AskedForIsNeverSwapped() {
        var tried: [ImageClassifier.Backend] = []
        #expect(throws: InferenceError.self) {
            _ = try BackendFallback.load(preferred: .fp32) { (backend) throws(InferenceError) -> Int in
                tried.append(backend)
                throw .invalidGraph(reason: "test")
            }
        }
        #expect(tried == [.fp32])
    }
}
