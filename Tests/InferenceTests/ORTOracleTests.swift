import Foundation
import Imaging
import Inference
import KioskCore
import Logging
import Testing

/// The engine against ONNX Runtime on a ResNet50 (torchvision topology, 6 outputs, random but properly
/// scaled weights) and 200 pictures.
@Suite(.enabled(if: OracleFixtures.directory != nil, "set KIOSK_ORACLE_DIR (the test command does)"), .serialized)
struct ORTOracleTests {
    let fixtures: OracleFixtures
    let inputs: [RGBImage]

    init() throws {
        fixtures = try OracleFixtures()
        inputs = try fixtures.pictures("inputs").map { try ImageDecoder.decode(file: $0) }
    }

    @Test func fp32BackendMatchesONNXRuntimeWithin1e3Relative() throws {
        let classifier = try ImageClassifier(modelPath: fixtures.fp32Model, backend: .fp32, threads: 2, labels: try fixtures.labels)
        let expected = try fixtures.ortLogits("ort-fp32.f32")
        #expect(expected.count == inputs.count)
        var worst: Float = 0
        for (image, reference) in zip(inputs, expected) {
            let logits = try classifier.logits(for: image)
            let scale = max(reference.map(abs).max()!, 1)
            let error = zip(logits, reference).map { abs($0 - $1) }.max()! / scale
            worst = max(worst, error)
        }
        print("fp32 vs ONNX Runtime fp32: worst relative logit error \(worst) over \(inputs.count) inputs")
        #expect(worst <= 1e-3)
    }

    @Test func int8BackendAgreesWithONNXRuntimeFP32() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-\(getpid()).kmodel").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try ModelQuantizer.quantize(
            network: try ONNXImporter.load(path: fixtures.fp32Model), labels: try fixtures.labels,
            preprocessing: .imageNet(), calibrationPictures: try fixtures.pictures("calibration"),
            options: .init(threads: 2, source: "resnet50.onnx"), to: path, logger: Logger(label: "test"))
        #expect(report.picturesUsed == 32)
        let classifier = try ImageClassifier(modelPath: path, backend: .int8, threads: 2)
        let expected = try fixtures.ortLogits("ort-fp32.f32")
        var clear = 0
        var agree = 0
        var cosines: [Float] = []
        for (image, reference) in zip(inputs, expected) {
            let logits = try classifier.logits(for: image)
            cosines.append(Stats.cosine(logits, reference))
            // "Clear" top-1: ONNX Runtime's best logit leads the second by at least 0.5 (logits spread about 3).
            if Stats.margin(reference) >= 0.5 {
                clear += 1
                if Stats.argmax(logits) == Stats.argmax(reference) { agree += 1 }
            }
        }
        let meanCosine = cosines.reduce(0, +) / Float(cosines.count)
        print("int8 vs ONNX Runtime fp32: top-1 \(agree)/\(clear) clear inputs, cosine mean \(meanCosine) min \(cosines.min()!), "
              + "\(cosines.count { $0 >= 0.99 }) of \(cosines.count) inputs at 0.99 or more")
        #expect(clear >= 100)
        #expect(Double(agree) >= 0.97 * Double(clear))
        #expect(meanCosine >= 0.99)
    }

    @Test func importedQDQModelAgreesWithONNXRuntimeQDQ() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-qdq-\(getpid()).kmodel").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let network = try ONNXImporter.load(path: fixtures.qdqModel)
        let report = try ModelQuantizer.quantize(
            network: network, labels: try fixtures.labels, preprocessing: .imageNet(), calibrationPictures: [],
            options: .init(threads: 2, source: "resnet50-qdq.onnx"), to: path, logger: Logger(label: "test"))
        #expect(report.picturesUsed == 0, "a QDQ model carries its ranges: no calibration")
        let classifier = try ImageClassifier(modelPath: path, backend: .int8, threads: 2)
        let expected = try fixtures.ortLogits("ort-qdq.f32")
        var agree = 0
        var cosines: [Float] = []
        for (image, reference) in zip(inputs, expected) {
            let logits = try classifier.logits(for: image)
            if Stats.argmax(logits) == Stats.argmax(reference) { agree += 1 }
            cosines.append(Stats.cosine(logits, reference))
        }
        print("imported QDQ on int8 vs ONNX Runtime QDQ: top-1 \(agree)/\(inputs.count), cosine min \(cosines.min()!)")
        #expect(Double(agree) >= 0.99 * Double(inputs.count))
    }
}
