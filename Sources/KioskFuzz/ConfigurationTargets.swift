import Foundation
import KioskCore

/// Files a technician edits: the kiosk's configuration and the bin catalogue.
enum ConfigurationTargets {
    static let configuration = FuzzTarget(name: "configuration", summary: "the kiosk configuration (KioskConfiguration JSON)") { bytes in
        guard let c = try? KioskConfiguration(json: bytes, source: "fuzz.json") else { return false }
        require(c.threads.map(KioskConfiguration.inferenceThreads.contains) ?? true, "accepted threads \(c.threads ?? 0)")
        for control in [c.camera.exposure, c.camera.whiteBalance, c.camera.focus] {
            let n = control?.fixedValue ?? 0
            require((0...CameraControl.maximum).contains(n), "accepted camera control \(n)")
        }
        return true
    }

    /// A catalogue that loads encodes and loads again to the same encoding.
    static let catalogue = FuzzTarget(name: "catalogue", summary: "the bin catalogue (Catalogue JSON)") { bytes in
        guard let c = try? Catalogue(json: bytes, source: "fuzz.json") else { return false }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let once = [UInt8](try encoder.encode(c))
            let twice = [UInt8](try encoder.encode(try Catalogue(json: once, source: "fuzz-again.json")))
            require(once == twice, "a catalogue does not survive encoding")
        } catch {
            require(false, "a loaded catalogue cannot be encoded and loaded again: \(error)")
        }
        return true
    }
}
