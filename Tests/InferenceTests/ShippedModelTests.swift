import Foundation
import Imaging
import Inference
import KioskCore
import Testing

/// The model the kiosk ships (`Resources/models/default.kmodel`, trained by `scripts/train-model`): it loads,
/// its checksum holds, its labels have bins, and it answers one held-out photo per label correctly. The photos
/// (`Tests/Fixtures/model`) are validation photos the model was never trained on, picked as the first confident
/// correct answer per label: this checks the shipped file and the int8 path end to end, not accuracy, which the
/// model card reports on the whole validation split.
struct ShippedModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let modelPath = root.appendingPathComponent("Resources/models/default.kmodel").path
    static let labels = ["cardboard", "glass", "metal", "paper", "plastic", "trash", "electronics", "food"]

    @Test func loadsWithItsChecksumAndTheEightLabels() throws {
        let model = try KioskModel(path: Self.modelPath)
        #expect(model.labels == Self.labels)
        #expect(model.checksum.count == 64)
        let listed = try String(contentsOfFile: Self.root.appendingPathComponent("Resources/models/labels.txt").path, encoding: .utf8)
        #expect(listed.split(separator: "\n").map(String.init) == Self.labels)
        let cataloguePath = Self.root.appendingPathComponent("Resources/catalogue.json").path
        let catalogue = try Catalogue(json: [UInt8](try Data(contentsOf: URL(fileURLWithPath: cataloguePath))), source: cataloguePath)
        #expect(catalogue.unmappedLabels(model.labels).isEmpty)
    }

    @Test(arguments: ShippedModelTests.labels)
    func answersAHeldOutPhoto(label: String) throws {
        let folder = Self.root.appendingPathComponent("Tests/Fixtures/model").path
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: folder)
            .first { $0.hasPrefix(label + ".") }, "no fixture photo for \(label)")
        let classifier = try ImageClassifier(modelPath: Self.modelPath, backend: .int8, threads: 1)
        let image = try ImageDecoder.decode(file: folder + "/" + file, minimumShorterSide: classifier.preprocessing.resizeShorterSide)
        let answer = try classifier.classify(image)
        #expect(answer.top.label == label, "\(file): \(answer.top.label) (\(answer.top.probability))")
    }

    @Test func aDamagedCopyIsRefused() throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.modelPath)))
        bytes[bytes.count / 2] ^= 0x40
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("kiosk-damaged-\(getpid()).kmodel").path
        try Data(bytes).write(to: URL(fileURLWithPath: copy))
        defer { try? FileManager.default.removeItem(atPath: copy) }
        do {
            _ = try KioskModel(path: copy)
            Issue.record("a damaged model file loaded")
        } catch {
            guard case .checksumMismatch(let path) = error else { Issue.record("wrong error: \(error)"); return }
            #expect(path == copy)
        }
    }
}
