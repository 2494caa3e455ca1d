import ArgumentParser
import Imaging
import Inference
import KioskCore
import Logging

import Foundation

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Make and inspect kiosk model files; the installed model: status, install, rollback.",
        subcommands: [QuantizeCommand.self, InfoCommand.self, ModelStatusCommand.self, ModelInstallCommand.self,
                      ModelRollbackCommand.self])
}

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Calibrate an ONNX model on pictures and write the kiosk's int8 model file.")

    @Option(name: .long, help: "ONNX model (fp32, or QDQ from ONNX Runtime's quantize_static).")
    var onnx: String

    @Option(name: .long, help: "Labels, one per line, in output order.")
    var labels: String

    @Option(name: .long, help: "Folder of JPEG/PNG calibration pictures (searched recursively). Not needed for QDQ.")
    var calibration: String?

    @Option(name: .long, help: "Model file to write.")
    var out: String

    @Option(name: .long, help: "Percentile of activation values kept in range.")
    var percentile = 99.999

    @Flag(name: .long, help: "Use plain min/max ranges instead of a percentile.")
    var minmax = false

    @Option(name: .long, help: "Use at most this many calibration pictures (evenly spread over the sorted list).")
    var maxPictures = 200

    @Option(name: .long, help: "Threads for the fp32 calibration runs (default: all cores).")
    var threads: Int?

    @Flag(name: .long) var verbose = false

    func validate() throws {
        guard percentile > 50 && percentile <= 100 else { throw ValidationError("--percentile must be in (50, 100], not \(percentile)") }
        guard maxPictures >= 1 else { throw ValidationError("--max-pictures must be at least 1") }
    }

    func run() throws {
        Kiosk.bootstrapLogging(verbose: verbose)
        let logger = Logger(label: "kiosk.quantize")
        let labelList = try EngineLoader.readLabels(labels)
        let pictures = try calibration.map { try Self.pictures(in: $0, limit: maxPictures) } ?? []
        let network: Network
        do {
            network = try ONNXImporter.load(path: onnx)
        } catch {
            throw fail(error.description)
        }
        let start = ContinuousClock.now
        do {
            let report = try ModelQuantizer.quantize(
                network: network, labels: labelList, preprocessing: .imageNet(inputWidth: network.input.width, inputHeight: network.input.height),
                calibrationPictures: pictures,
                options: .init(percentile: minmax ? nil : percentile, threads: threads ?? ImageClassifier.defaultThreads,
                               source: URL(fileURLWithPath: onnx).lastPathComponent),
                to: out, logger: logger)
            let model = try KioskModel(path: out)
            print("wrote \(out): \(model.fileSize) bytes, \(labelList.count) labels, \(report.method)")
            print(String(format: "calibrated %d tensors (%d preset) in %.1f s", report.calibratedTensors, report.presetTensors,
                         (ContinuousClock.now - start).milliseconds / 1000))
            print("sha256 \(model.checksum)")
        } catch {
            throw fail(error.description)
        }
    }

    /// JPEG and PNG files under `folder`, sorted, thinned evenly to `limit`.
    static func pictures(in folder: String, limit: Int) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw fail("\(folder): calibration folder does not exist")
        }
        let found = ImageFiles.list(folder)
        if found.isEmpty { throw fail("\(folder): no JPEG or PNG pictures to calibrate on") }
        if found.count <= limit { return found }
        return (0..<limit).map { found[$0 * found.count / limit] }
    }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show what a kiosk model file holds.")

    @Argument(help: "Kiosk model file.")
    var model: String

    func run() throws {
        let loaded: KioskModel
        do {
            loaded = try KioskModel(path: model)
        } catch {
            throw fail(error.description)
        }
        let s = loaded.inputShape
        print("model: \(model)")
        print("format version: \(KioskModel.formatVersion)")
        print("size: \(loaded.fileSize) bytes")
        print("sha256: \(loaded.checksum)")
        print("input: \(s.width)x\(s.height) RGB, resize shorter side to \(loaded.preprocessing.resizeShorterSide), centre crop")
        print("labels (\(loaded.labels.count)): \(loaded.labels.joined(separator: ", "))")
        print("source: \(loaded.source)")
        print("calibration: \(loaded.calibration)")
        print("created: \(loaded.created)")
    }
}
