import ArgumentParser
import Camera
import Foundation
import Imaging
import Inference
import KioskCore

/// Times the camera's conversion paths on a recorded frame, so the preview and scan budgets can be checked on
/// any machine without a camera.
struct CameraBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time MJPEG frame → preview picture and → 224x224 model input, against a full-size decode.")

    @Option(name: .long, help: "An MJPEG frame (a JPEG file), e.g. one saved by `kiosk camera snapshot`.")
    var frame: String

    @Option(name: .long, help: "Frames per measurement.")
    var runs = 100

    @Option(name: .long, help: "Measurements (min and median are reported).")
    var repeats = 5

    @Option(name: .long, help: "Shorter side of the preview picture.")
    var previewSide = 360

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: frame)))
        } catch {
            throw fail("\(frame): cannot read (\(error.localizedDescription))")
        }
        let converter = FrameConverter()
        let probe: RGBImage
        do {
            probe = try bytes.withUnsafeBytes {
                try converter.rgb(from: $0, format: NegotiatedFormat(format: .mjpeg, width: 0, height: 0),
                                  minimumShorterSide: nil, device: frame)
            }
        } catch {
            throw fail("\(error)")
        }
        let format = NegotiatedFormat(format: .mjpeg, width: probe.width, height: probe.height)
        let model = Preprocessing.imageNet()
        var crop = probe

        // Each path, timed in turns within the same run so machine noise hits all of them alike.
        let paths: [(String, () throws -> Void)] = [
            ("full_decode", {
                _ = try bytes.withUnsafeBytes { try converter.rgb(from: $0, format: format, minimumShorterSide: nil, device: frame) }
            }),
            ("preview", {
                _ = try bytes.withUnsafeBytes {
                    try converter.rgb(from: $0, format: format, minimumShorterSide: previewSide, device: frame)
                }
            }),
            ("model_input", {
                let image = try bytes.withUnsafeBytes {
                    try converter.rgb(from: $0, format: format, minimumShorterSide: model.resizeShorterSide, device: frame)
                }
                crop = model.crop(image)
            }),
        ]
        var samples = [String: [Double]]()
        let clock = ContinuousClock()
        for _ in 0..<repeats {
            for (name, body) in paths {
                let start = clock.now
                for _ in 0..<runs { try body() }
                let d = clock.now - start
                let ms = d.milliseconds / Double(runs)
                samples[name, default: []].append(ms)
            }
        }
        func stats(_ name: String) -> (min: Double, median: Double) {
            let s = samples[name]!.sorted()
            return (s[0], s[s.count / 2])
        }
        precondition(crop.width == model.cropWidth)
        let full = stats("full_decode"), preview = stats("preview"), input224 = stats("model_input")
        // Share of one core the preview needs at 30 fps.
        let previewCore = preview.median * 30 / 1000
        if json {
            let fields = [("full_decode", full), ("preview", preview), ("model_input", input224)].map { name, s in
                "\"\(name)_ms\":{\"min\":\(JSONText.number(s.min, digits: 3)),\"median\":\(JSONText.number(s.median, digits: 3))}"
            }
            print("{\"frame\":\"\(probe.width)x\(probe.height)\",\(fields.joined(separator: ",")),"
                  + "\"preview_core_share_at_30fps\":\(JSONText.number(previewCore, digits: 3))}")
        } else {
            print("frame: \(probe.width)x\(probe.height) MJPEG, \(runs) frames x \(repeats) repeats")
            print("full-size decode:           min \(String(format: "%.2f", full.min)) ms, median \(String(format: "%.2f", full.median)) ms")
            print("preview (shorter side \(previewSide)): min \(String(format: "%.2f", preview.min)) ms, median \(String(format: "%.2f", preview.median)) ms "
                  + "(\(String(format: "%.2f", full.median / preview.median))x faster than full size)")
            print("224x224 model input (decode, resize, crop): min \(String(format: "%.2f", input224.min)) ms, median \(String(format: "%.2f", input224.median)) ms")
            print("preview at 30 fps: \(String(format: "%.2f", previewCore * 100))% of one core")
        }
    }
}
