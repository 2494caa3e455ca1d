internal import CV4L2
import Logging

/// Negotiation and controls: what happens between opening the device and starting the stream.
public enum CameraSetup {
    /// Opens the device, negotiates the first mode it offers, applies the controls and starts streaming.
    public static func openStreaming(_ settings: CameraSettings, logger: Logger) throws(CameraError)
        -> (device: V4L2Device, format: NegotiatedFormat)
    {
        let device = try V4L2Device(path: settings.device)
        let format = try negotiate(device, modes: settings.modes)
        applyControls(device, settings: settings, logger: logger)
        try device.startStreaming(bufferCount: settings.bufferCount)
        return (device, format)
    }

    /// Sets the first mode the device offers (format, then size, then rate) and returns what the driver agreed to.
    /// - Throws: `CameraError.unsupportedFormat` listing what the device offers when none fits.
    public static func negotiate(_ device: V4L2Device, modes: [CaptureMode]) throws(CameraError) -> NegotiatedFormat {
        let offered = device.formats().map(\.format)
        for mode in modes where offered.contains(mode.format) {
            var got = try device.setFormat(mode.format, width: mode.width, height: mode.height)
            guard got.format == mode.format else { continue }
            got.framesPerSecond = try device.setFrameRate(mode.framesPerSecond)
            return got
        }
        let asked = modes.map { "\($0.format)" }.joined(separator: ", ")
        let has = offered.map(\.description).joined(separator: ", ")
        throw .unsupportedFormat(device: device.path, reason: "offers none of \(asked) (it has: \(has))")
    }

    /// Applies exposure, white balance and focus where the device has those controls; returns one line per setting
    /// for the log (what was set, or why not).
    @discardableResult
    public static func applyControls(_ device: V4L2Device, settings: CameraSettings, logger: Logger) -> [String] {
        let available = Dictionary(device.controls().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var report: [String] = []
        func set(_ id: Int32, _ value: Int, _ what: String) {
            let id = UInt32(bitPattern: id)
            guard let info = available[id] else {
                report.append("\(what): not supported by this camera")
                return
            }
            let clamped = min(max(value, info.minimum), info.maximum)
            do {
                try device.setControl(id, to: clamped)
                report.append("\(what): \(clamped)")
            } catch {
                report.append("\(what): \(error)")
            }
        }
        switch settings.exposure {
        case .auto:
            set(V4L2_CID_EXPOSURE_AUTO, Int(V4L2_EXPOSURE_APERTURE_PRIORITY.rawValue), "exposure auto")
        case .manual(let value):
            set(V4L2_CID_EXPOSURE_AUTO, Int(V4L2_EXPOSURE_MANUAL.rawValue), "exposure manual")
            set(V4L2_CID_EXPOSURE_ABSOLUTE, value, "exposure")
        }
        switch settings.whiteBalance {
        case .auto:
            set(V4L2_CID_AUTO_WHITE_BALANCE, 1, "white balance auto")
        case .kelvin(let k):
            set(V4L2_CID_AUTO_WHITE_BALANCE, 0, "white balance auto")
            set(V4L2_CID_WHITE_BALANCE_TEMPERATURE, k, "white balance (K)")
        }
        switch settings.focus {
        case .auto:
            set(V4L2_CID_FOCUS_AUTO, 1, "focus auto")
        case .fixed(let value):
            set(V4L2_CID_FOCUS_AUTO, 0, "focus auto")
            set(V4L2_CID_FOCUS_ABSOLUTE, value, "focus")
        }
        for line in report { logger.debug("camera control", metadata: ["device": "\(device.path)", "setting": "\(line)"]) }
        return report
    }
}
