import Foundation
import Inference

/// Model files: the kiosk's own `.kmodel` (a technician's USB stick, soon the fleet server) and ONNX imports.
/// Both are read from a path (the model is memory-mapped), so the bytes go to a file in memory first.
enum ModelTargets {
    static let scratch = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
        + "/kiosk-fuzz-\(getpid())"

    static func file(_ bytes: [UInt8], _ suffix: String) -> String {
        let path = scratch + suffix
        require(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
        return path
    }

    /// The header, sections and checksum: an accepted file has labels, an input shape and a network whose every
    /// layer reads tensors that exist.
    static let model = FuzzTarget(name: "model", summary: "kiosk model files (.kmodel: header, sections, checksum)") { bytes in
        let path = file(bytes, ".kmodel")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model: KioskModel
        do {
            model = try KioskModel(path: path)
        } catch {
            return false
        }
        require(!model.labels.isEmpty && model.inputShape.count > 0, "accepted without labels or input")
        require(model.fileSize == bytes.count, "size \(model.fileSize), file \(bytes.count)")
        let network = model.dequantizedNetwork()
        require(!network.layers.isEmpty, "accepted with no layers")
        return true
    }

    /// An ONNX graph as the importer turns it into the kiosk's network.
    static let onnx = FuzzTarget(name: "onnx", summary: "ONNX models (ONNXImporter)") { bytes in
        let path = file(bytes, ".onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let network = try? ONNXImporter.load(path: path) else { return false }
        require(!network.layers.isEmpty, "imported with no layers")
        return true
    }
}
