import Foundation
import Testing

/// Runs the built `kiosk` binary the way a technician would, on good and bad input.
struct CommandLineTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) -> String { root.appendingPathComponent("Tests/Fixtures/\(name)").path }

    /// The test binary sits beside the built products.
    static var kiosk: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("kiosk")
    }

    func run(_ arguments: [String], environment: [String: String] = [:], executable: URL = Self.kiosk) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["KIOSK_MODEL"] = nil
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    func quantizeTiny(to path: String) throws -> Outcome {
        try run(["model", "quantize", "--onnx", Self.fixture("tiny-resnet.onnx"), "--labels", Self.fixture("tiny-labels.txt"),
                 "--calibration", Self.root.appendingPathComponent("Tests/Fixtures").path, "--out", path, "--threads", "1"])
    }

    @Test func recordStatusEnrollAndExportWorkTogether() throws {
        let data = NSTemporaryDirectory() + "cli-data-\(getpid())"
        let usb = NSTemporaryDirectory() + "cli-usb-\(getpid())"
        try FileManager.default.createDirectory(atPath: usb, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: usb) }
        let engine = ["--model", Self.fixture("tiny-resnet.onnx"), "--labels", Self.fixture("tiny-labels.txt"), "--backend", "fp32"]

        let classified = try run(["classify", "--record", "--data-dir", data, "--json"] + engine
                                 + [Self.fixture("glass1.jpg"), Self.fixture("glass1.png")])
        #expect(classified.status == 0, "\(classified.stderr)")
        var status = try run(["sync", "--status", "--json", "--data-dir", data])
        #expect(status.stdout.contains("\"records\":2,\"pending\":2,"), "\(status.stdout)")

        let unsigned = try run(["export", "--to", usb, "--data-dir", data])
        #expect(unsigned.status == 1 && unsigned.stderr.contains("not enrolled"))

        let badEnroll = try run(["enroll", "--server", "kiosk.example", "--token", "0123456789abcdef0123", "--data-dir", data])
        #expect(badEnroll.status == 1 && badEnroll.stderr.contains("kiosk.example"))
        // kiosk.example cannot be reached: enrolled without checking the token.
        let enrolled = try run(["enroll", "--server", "https://kiosk.example", "--token", "0123456789abcdef0123",
                                "--kiosk", "station-7", "--offline", "--data-dir", data])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.stdout.contains("2 pending records made before enrollment now belong to station-7"))
        let mode = try FileManager.default.attributesOfItem(atPath: data + "/enrollment.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let exported = try run(["export", "--to", usb, "--data-dir", data])
        #expect(exported.status == 0, "\(exported.stderr)")
        let bundle = try String(contentsOfFile: usb + "/kiosk-station-7-1-2.kbundle", encoding: .utf8)
        #expect(bundle.contains("\"hmac_sha256\":\"") && bundle.contains("station-7"))

        // Exported records stay pending until the server has them.
        status = try run(["sync", "--status", "--json", "--data-dir", data])
        #expect(status.stdout.contains("\"pending\":2,\"pending_exported\":2"), "\(status.stdout)")
        let push = try run(["sync", "--data-dir", data])
        #expect(push.status == 1 && push.stderr.hasPrefix("kiosk: error: ") && push.stderr.split(separator: "\n").count == 1)
    }

    @Test func quantizeInfoAndClassifyWorkEndToEnd() throws {
        let model = NSTemporaryDirectory() + "cli-\(getpid()).kmodel"
        defer { unlink(model) }
        // The calibration folder holds bad pictures too (empty, truncated): they must be named, not skipped.
        let bad = try quantizeTiny(to: model)
        #expect(bad.status != 0)
        #expect(!FileManager.default.fileExists(atPath: model), "no partial model file")

        let dir = NSTemporaryDirectory() + "cli-calibration-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["glass1.jpg", "glass1.png", "alpha64x48.png"] {
            try FileManager.default.copyItem(atPath: Self.fixture(name), toPath: "\(dir)/\(name)")
        }
        let quantize = try run(["model", "quantize", "--onnx", Self.fixture("tiny-resnet.onnx"), "--labels", Self.fixture("tiny-labels.txt"),
                                "--calibration", dir, "--out", model, "--threads", "1"])
        #expect(quantize.status == 0, "\(quantize.stderr)")
        #expect(quantize.stdout.contains("3 labels, percentile 99.999 on 3 pictures"))

        let info = try run(["model", "info", model])
        #expect(info.status == 0)
        #expect(info.stdout.contains("format version: 1"))
        #expect(info.stdout.contains("labels (3): cardboard, glass, trash"))
        #expect(info.stdout.contains("input: 32x32 RGB"))

        let classify = try run(["classify", "--json", "--model", model, Self.fixture("glass1.jpg")])
        #expect(classify.status == 0, "\(classify.stderr)")
        let line = try #require(classify.stdout.split(separator: "\n").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["image"] as? String == Self.fixture("glass1.jpg"))
        #expect(["cardboard", "glass", "trash"].contains(object["label"] as? String ?? ""))
        #expect(["recyclable", "other"].contains(object["category"] as? String ?? ""))
        #expect((object["topk"] as? [[String: Any]])?.count == 3)
        #expect(line.hasPrefix("{\"image\":"))

        let text = try run(["classify", "--lang", "zh", "--model", model, Self.fixture("glass1.jpg")])
        #expect(text.status == 0)
        #expect(text.stdout.contains("→"))
    }

    @Test(arguments: [
        ("empty.png", "file is empty"), ("not-an-image.jpg", "not a JPEG or PNG image"), ("one-pixel.png", "image is 1x1"),
        ("huge-20000x20000.jpg", "image is 20000x20000"), ("truncated.jpg", "corrupt JPEG"),
    ])
    func badPicturesGiveOneErrorLineAndANonZeroExit(name: String, message: String) throws {
        let result = try run(["classify", "--backend", "fp32", "--model", Self.fixture("tiny-resnet.onnx"),
                              "--labels", Self.fixture("tiny-labels.txt"), Self.fixture(name)])
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.contains(message) == true, "\(result.stderr)")
    }

    @Test func badModelsGiveOneErrorLineAndANonZeroExit() throws {
        let cases: [([String], String)] = [
            (["classify", "--backend", "fp32", "--model", Self.fixture("tiny-sigmoid.onnx"), Self.fixture("glass1.jpg")],
             "unsupported ONNX operator Sigmoid"),
            (["classify", "--model", Self.fixture("glass1.jpg"), Self.fixture("glass1.jpg")], "not a kiosk model file"),
            (["model", "info", Self.fixture("tiny-resnet.onnx")], "does not start with KIOSKMDL"),
            (["model", "info", Self.fixture("empty.png")], "file is empty"),
            (["model", "quantize", "--onnx", Self.fixture("truncated.jpg"), "--labels", Self.fixture("tiny-labels.txt"),
              "--calibration", Self.root.appendingPathComponent("Tests/Fixtures").path, "--out", "/tmp/never-written.kmodel"],
             "not a valid ONNX model"),
        ]
        for (arguments, message) in cases {
            let result = try run(arguments, environment: ["KIOSK_RESOURCES": Self.root.appendingPathComponent("Resources").path])
            #expect(result.status != 0, "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.kmodel"))
    }

    /// A checkout finds its shipped model; a kiosk binary installed elsewhere without one must say where it looked.
    @Test func withoutAModelClassifySaysWhereItLooked() throws {
        let folder = NSTemporaryDirectory() + "kiosk-nomodel-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = URL(fileURLWithPath: folder + "/kiosk")
        try FileManager.default.copyItem(at: Self.kiosk, to: copy)
        let result = try run(["classify", Self.fixture("glass1.jpg")],
                             environment: ["KIOSK_RESOURCES": Self.root.appendingPathComponent("Resources").path], executable: copy)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("no model installed"), "\(result.stderr)")
    }

    @Test func statusSummarisesCameraModelRecordsAndDisk() throws {
        let data = NSTemporaryDirectory() + "cli-status-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: data) }
        _ = try run(["classify", "--record", "--data-dir", data, Self.root.appendingPathComponent("Tests/Fixtures/model/food.jpg").path])
        let result = try run(["status", "--json", "--device", "/dev/video-kiosk-missing", "--data-dir", data])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["camera"] as? String == "/dev/video-kiosk-missing: no such camera")
        #expect((object?["model"] as? String)?.hasSuffix("Resources/models/default.kmodel") == true)
        #expect(object?["records"] as? Int == 1 && object?["pending"] as? Int == 1 && object?["records_today"] as? Int == 1)
        #expect(object?["healthy"] as? Bool == false)  // no camera
        #expect(object?["disk_free_gib"] is Double)
        let text = try run(["status", "--device", "/dev/video-kiosk-missing", "--data-dir", data])
        #expect(text.stdout.contains("records: 1 kept, 1 today (kitchen 1)"), "\(text.stdout)")
        #expect(text.stdout.hasSuffix("needs attention: camera\n"))
    }

    @Test func theShippedModelIsTheDefaultInACheckout() throws {
        let result = try run(["classify", "--json", Self.root.appendingPathComponent("Tests/Fixtures/model/food.jpg").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"label\":\"food\",\"category\":\"kitchen\""), "\(result.stdout)")
    }
}
