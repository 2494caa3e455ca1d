import Foundation
import Imaging
import Inference
import KioskCore
import Logging
import SyncWire

/// Writes the seeds that cannot simply be copied from the fixtures: a batch, a bundle, a gzip body, a tiny model.
enum Seeds {
    static func write(fixtures: String, to corpus: String) throws {
        func put(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
            let folder = corpus + "/" + target
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        let guesses: [ScanRecord.Guess] = [.init(label: "glass", p: 0.6), .init(label: "trash", p: 0.3)]
        let records: [ScanRecord] = [
            ScanRecord(kiosk: "station-1", capturedAtMilliseconds: 1_795_000_000_001, sequence: 1, label: "glass",
                       category: .recyclable, confidence: 0.6, top: guesses, modelVersion: "m1", language: .zh, asked: true),
            ScanRecord(kiosk: "station-1", capturedAtMilliseconds: 1_795_000_000_002, sequence: 2, label: "trash",
                       category: .other, confidence: 0.7, top: guesses, modelVersion: "m1", language: .zh),
            ScanRecord(kiosk: "station-1", capturedAtMilliseconds: 1_795_000_000_003, sequence: 3, label: "glass",
                       category: .recyclable, confidence: 0.8, top: guesses, modelVersion: "m1", language: .en,
                       correction: "category:hazardous"),
        ]
        let batch = [UInt8](try WireJSON.encoder().encode(RecordBatch(kiosk: "station-1", records: records)))
        try put("batch", "three-records.json", batch)
        try put("gzip", "batch.json.gz", Gzip.compress(batch))
        try put("bundle", "three-records.kbundle",
                try OfflineBundle(kiosk: "station-1", createdAtMilliseconds: 1_795_000_000_000, records: records)
                    .signed(token: WireTargets.bundleToken))
        let answers = [ModelManifest.Answer(photo: "glass.jpg", photoSHA256: String(repeating: "ab", count: 32), label: "glass", probability: 0.9371),
                       ModelManifest.Answer(photo: "metal.jpg", photoSHA256: String(repeating: "cd", count: 32), label: "metal", probability: 0.642)]
        let manifest = ModelManifest(version: String(repeating: "0f", count: 32), size: 23_868_288, labels: ["glass", "metal", "trash"],
                                     answers: answers, notes: "retrained", createdAtMilliseconds: 1_795_000_000_000)
        let signed = try SignedManifest.sign(manifest, with: WireTargets.manifestKey)
        try put("manifest", "assignment.json", [UInt8](try WireJSON.encoder().encode(ModelAssignment(signed: signed, path: "api/v1/models/" + manifest.version))))
        try put("manifest", "manifest.json", [UInt8](try WireJSON.encoder().encode(manifest)))
        let model = NSTemporaryDirectory() + "kiosk-fuzz-seed-\(getpid()).kmodel"
        defer { try? FileManager.default.removeItem(atPath: model) }
        _ = try ModelQuantizer.quantize(
            network: try ONNXImporter.load(path: fixtures + "/tiny-resnet.onnx"), labels: ["glass", "paper", "trash"],
            preprocessing: .imageNet(inputWidth: 32, inputHeight: 32),
            calibrationPictures: [fixtures + "/glass1.png", fixtures + "/alpha64x48.png"],
            options: .init(threads: 1, source: "tiny-resnet.onnx"), to: model, logger: Logger(label: "kiosk-fuzz"))
        try put("model", "tiny.kmodel", [UInt8](try Data(contentsOf: URL(fileURLWithPath: model))))
    }
}
