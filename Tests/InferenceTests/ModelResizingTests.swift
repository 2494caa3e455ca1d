import Foundation
import Imaging
import Inference
import KioskCore
import Testing

/// The shipped ResNet50 rewritten for another input size (what `kiosk selftest` times as a 224 px ResNet50).
struct ModelResizingTests {
    static let modelPath = ShippedModelTests.modelPath

    @Test func atItsOwnSizeTheRewrittenModelAnswersExactlyAsTheShippedOne() throws {
        let model = try KioskModel(path: Self.modelPath)
        let path = NSTemporaryDirectory() + "resized-\(UUID().uuidString).kmodel"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.writeResized(side: model.inputShape.width, to: path)
        let picture = ShippedModelTests.root.appendingPathComponent("Tests/Fixtures/model/glass.jpg").path
        var answers: [[Float]] = []
        for file in [Self.modelPath, path] {
            let classifier = try ImageClassifier(modelPath: file, backend: .int8, threads: 1)
            let image = try ImageDecoder.decode(file: picture, minimumShorterSide: classifier.preprocessing.resizeShorterSide)
            answers.append(try classifier.logits(for: image))
        }
        #expect(answers[0] == answers[1])
    }

    @Test func at224PixelsItLoadsRunsAtThatSizeAndStillKnowsGlass() throws {
        let model = try KioskModel(path: Self.modelPath)
        let path = NSTemporaryDirectory() + "resized-\(UUID().uuidString).kmodel"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.writeResized(side: 224, to: path)
        let resized = try KioskModel(path: path)
        #expect(resized.inputShape == Network.Shape(channels: 3, height: 224, width: 224))
        #expect(resized.preprocessing.resizeShorterSide == 256 && resized.labels == model.labels)
        let classifier = try ImageClassifier(modelPath: path, backend: .int8, threads: 1)
        let picture = ShippedModelTests.root.appendingPathComponent("Tests/Fixtures/model/glass.jpg").path
        let answer = try classifier.classify(try ImageDecoder.decode(file: picture, minimumShorterSide: 256))
        // Not calibrated at 224 px, so only the answer is checked, not its probability.
        #expect(answer.top.label == "glass", "\(answer.top)")
        #expect(throws: InferenceError.self) { try model.writeResized(side: 8, to: path) }
    }
}
