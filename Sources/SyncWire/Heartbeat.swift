#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KioskCore

/// What a kiosk says about itself with each sync (`POST /api/v1/heartbeat`), so that the city sees a kiosk's
/// health without visiting it: which app and model it runs, its camera, disk, outbox and last error.
public struct Heartbeat: Sendable, Equatable, Codable {
    public var kiosk: String
    public var sentAtMilliseconds: Int64
    public var appVersion: String
    /// The running model's version (its SHA-256), nil when unknown (no model loads).
    public var modelVersion: String?
    /// The last model problem (a refused download, a model that did not load and was rolled back).
    public var modelError: String?
    /// "ok", "busy", "unknown" (the app is not the sender) or what is wrong with it.
    public var camera: String
    public var diskFreeBytes: Int64?
    public var pending: Int
    public var refused: Int
    public var uptimeSeconds: Int64?
    public var lastError: String?
    public var cpuTemperatureCelsius: Double?

    public init(kiosk: String, sentAtMilliseconds: Int64, appVersion: String, modelVersion: String?, modelError: String? = nil,
                camera: String, diskFreeBytes: Int64?, pending: Int, refused: Int, uptimeSeconds: Int64?,
                lastError: String? = nil, cpuTemperatureCelsius: Double? = nil) {
        self.kiosk = kiosk
        self.sentAtMilliseconds = sentAtMilliseconds
        self.appVersion = appVersion
        self.modelVersion = modelVersion
        self.modelError = modelError
        self.camera = camera
        self.diskFreeBytes = diskFreeBytes
        self.pending = pending
        self.refused = refused
        self.uptimeSeconds = uptimeSeconds
        self.lastError = lastError
        self.cpuTemperatureCelsius = cpuTemperatureCelsius
    }

    enum CodingKeys: String, CodingKey {
        case kiosk, camera, pending, refused
        case sentAtMilliseconds = "sent_at_ms", appVersion = "app_version", modelVersion = "model_version"
        case modelError = "model_error", diskFreeBytes = "disk_free_bytes", uptimeSeconds = "uptime_s"
        case lastError = "last_error", cpuTemperatureCelsius = "cpu_temp_c"
    }

    /// A body larger than this is refused unread.
    public static let maximumBodyBytes = 16 << 10
    static let maximumText = 500

    /// What is wrong with a heartbeat the server received, nil when it is sane.
    public func problem() -> String? {
        if let problem = KioskName.problem(kiosk) { return problem }
        for (name, text) in [("app_version", appVersion), ("camera", camera), ("model_version", modelVersion ?? ""),
                             ("model_error", modelError ?? ""), ("last_error", lastError ?? "")] where text.utf8.count > Self.maximumText {
            return "\(name) is longer than \(Self.maximumText) bytes"
        }
        guard !appVersion.isEmpty, !camera.isEmpty else { return "app_version and camera must not be empty" }
        guard pending >= 0, refused >= 0, (diskFreeBytes ?? 0) >= 0, (uptimeSeconds ?? 0) >= 0, sentAtMilliseconds >= 0 else {
            return "counts, disk, uptime and time must not be negative"
        }
        if let t = cpuTemperatureCelsius, !(t.isFinite && (-50...150).contains(t)) { return "cpu_temp_c \(t) is not a temperature" }
        return nil
    }
}
