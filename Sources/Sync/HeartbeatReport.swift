#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KioskCore
import SyncWire

/// Makes the kiosk's heartbeat from what this module can see (the outbox, the installed models, the disk, the
/// system) and what only the composition root knows (the camera, the model running).
public enum HeartbeatReport {
    /// What the process sending the heartbeat knows of the app: the camera ("ok", "busy", "unknown" or what is
    /// wrong) and the running model's version.
    public typealias AppFacts = @Sendable () -> (camera: String, modelVersion: String?)

    public static func make(kiosk: String, dataDirectory: String, store: RecordStore, app: AppFacts,
                            now: Int64 = WallClock.nowMilliseconds) -> Heartbeat {
        let summary = try? store.summary()
        let (camera, model) = app()
        let models = try? ModelStore(dataDirectory: dataDirectory).state()
        return Heartbeat(
            kiosk: kiosk, sentAtMilliseconds: now, appVersion: AppVersion.current, modelVersion: model,
            modelError: models?.lastError.map { clip($0) }, camera: clip(camera), diskFreeBytes: diskFree(dataDirectory),
            pending: summary?.pending ?? 0, refused: summary?.refused ?? 0, uptimeSeconds: uptime(),
            lastError: summary?.lastError.map { clip($0) }, cpuTemperatureCelsius: cpuTemperature())
    }

    static func clip(_ text: String) -> String {
        text.utf8.count <= 500 ? text : String(decoding: Array(text.utf8.prefix(480)), as: UTF8.self) + "…"
    }

    static func diskFree(_ path: String) -> Int64? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        return Int64(fs.f_bavail) * Int64(fs.f_frsize)
    }

    static func uptime() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let seconds = Double(text.split(separator: " ").first ?? "") else { return nil }
        return Int64(seconds)
    }

    /// The SoC's temperature where the kernel reports it (a Raspberry Pi's thermal zone 0), in °C.
    public static func cpuTemperature() -> Double? {
        guard let text = try? String(contentsOfFile: "/sys/class/thermal/thermal_zone0/temp", encoding: .utf8),
              let milli = Double(text.filter { !$0.isWhitespace }) else { return nil }
        let celsius = milli / 1000
        return (-50...150).contains(celsius) ? (celsius * 10).rounded() / 10 : nil
    }
}

extension CurlTransport {
    /// Sends a heartbeat; the server answers 204.
    public func send(_ heartbeat: Heartbeat) throws(SyncError) {
        let body: [UInt8]
        do {
            body = [UInt8](try WireJSON.encoder().encode(heartbeat))
        } catch {
            throw .unencodable("\(error)")
        }
        let (status, response) = try post(base + "/api/v1/heartbeat", body: body)
        guard (200..<300).contains(status) else { throw Self.serverError(status, response) }
    }
}
