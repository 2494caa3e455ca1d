import Foundation
import KioskCore
import SyncWire

/// A kiosk's latest heartbeat as the server keeps it, and what the dashboard makes of it.
public struct KioskHealth: Sendable, Equatable {
    public var heartbeat: Heartbeat
    public var receivedAtMilliseconds: Int64

    public init(heartbeat: Heartbeat, receivedAtMilliseconds: Int64) {
        self.heartbeat = heartbeat
        self.receivedAtMilliseconds = receivedAtMilliseconds
    }

    /// Why the kiosk needs a look, empty when it is fine: silent for longer than `silentAfter`, a camera that is
    /// not streaming, under 500 MB of disk, refused records, a model problem, a hot CPU.
    public func problems(now: Int64, silentAfterMilliseconds: Int64) -> [String] {
        var found: [String] = []
        if now - receivedAtMilliseconds > silentAfterMilliseconds { found.append("silent") }
        let h = heartbeat
        if h.camera != "ok" && h.camera != "busy" && h.camera != "unknown" { found.append("camera") }
        if let disk = h.diskFreeBytes, disk < 500_000_000 { found.append("disk") }
        if h.refused > 0 { found.append("refused records") }
        if h.modelVersion == nil || h.modelError != nil { found.append("model") }
        if let t = h.cpuTemperatureCelsius, t >= 80 { found.append("temperature") }
        return found
    }
}

/// Field accuracy of one model version: answers its kiosks gave and how many residents corrected.
public struct ModelFieldAccuracy: Sendable, Equatable {
    public var modelVersion: String
    public var answers: Int
    public var corrected: Int
    public var kiosks: Int
}

extension CentralStore {
    /// Keeps a kiosk's heartbeat (its newest only; an older one arriving late changes nothing).
    public func recordHeartbeat(_ h: Heartbeat, receivedAtMilliseconds now: Int64) async throws(CentralError) {
        let values: [SQLValue] = [
            .text(h.kiosk), .integer(now), .integer(h.sentAtMilliseconds), .text(h.appVersion),
            h.modelVersion.map { .text($0) } ?? .null, h.modelError.map { .text($0) } ?? .null, .text(h.camera),
            h.diskFreeBytes.map { .integer($0) } ?? .null, .integer(Int64(h.pending)), .integer(Int64(h.refused)),
            h.uptimeSeconds.map { .integer($0) } ?? .null, h.lastError.map { .text($0) } ?? .null,
            h.cpuTemperatureCelsius.map { .real($0) } ?? .null,
        ]
        try await database.execute("""
            INSERT INTO kiosk_health (kiosk, received_at_ms, sent_at_ms, app_version, model_version, model_error, camera,
                disk_free_bytes, pending, refused, uptime_s, last_error, cpu_temp_c)
            VALUES \(SQL.rows([values]))
            ON CONFLICT (kiosk) DO UPDATE SET received_at_ms = excluded.received_at_ms, sent_at_ms = excluded.sent_at_ms,
                app_version = excluded.app_version, model_version = excluded.model_version, model_error = excluded.model_error,
                camera = excluded.camera, disk_free_bytes = excluded.disk_free_bytes, pending = excluded.pending,
                refused = excluded.refused, uptime_s = excluded.uptime_s, last_error = excluded.last_error,
                cpu_temp_c = excluded.cpu_temp_c
            WHERE kiosk_health.sent_at_ms <= excluded.sent_at_ms
            """)
    }

    /// Every kiosk's latest heartbeat, by name.
    public func health() async throws(CentralError) -> [KioskHealth] {
        try await database.query("""
            SELECT kiosk, received_at_ms, sent_at_ms, app_version, model_version, model_error, camera, disk_free_bytes,
                pending, refused, uptime_s, last_error, cpu_temp_c FROM kiosk_health ORDER BY kiosk
            """).map { (row) throws(CentralError) -> KioskHealth in
            KioskHealth(
                heartbeat: Heartbeat(
                    kiosk: try row.text(0), sentAtMilliseconds: try row.int(2), appVersion: try row.text(3),
                    modelVersion: try row.optionalText(4), modelError: try row.optionalText(5), camera: try row.text(6),
                    diskFreeBytes: try row.optionalInt(7), pending: Int(try row.int(8)), refused: Int(try row.int(9)),
                    uptimeSeconds: try row.optionalInt(10), lastError: try row.optionalText(11),
                    cpuTemperatureCelsius: row.isNull(12) ? nil : try row.double(12)),
                receivedAtMilliseconds: try row.int(1))
        }
    }

    /// Answers and residents' corrections per model version (the records' 16-digit prefix) for scans captured on
    /// the query's days (and kiosk): whether a new model does better in the field.
    public func fieldAccuracy(_ query: StatsQuery) async throws(CentralError) -> [ModelFieldAccuracy] {
        let (start, end) = ExportBounds.milliseconds(query, calendar: calendar)
        let kiosk = query.kiosk
        var sql: SQL = """
            SELECT model_version, COUNT(*), CAST(SUM(CASE WHEN correction IS NULL THEN 0 ELSE 1 END) AS BIGINT), COUNT(DISTINCT kiosk)
            FROM records WHERE captured_at_ms >= \(bind: .integer(start)) AND captured_at_ms < \(bind: .integer(end))
            """
        if let kiosk { sql.append(" AND kiosk = \(bind: .text(kiosk))") }
        sql.append(" GROUP BY model_version ORDER BY COUNT(*) DESC, model_version")
        return try await database.query(sql).map { (row) throws(CentralError) in
            ModelFieldAccuracy(modelVersion: try row.text(0), answers: Int(try row.int(1)), corrected: Int(try row.int(2)),
                               kiosks: Int(try row.int(3)))
        }
    }
}
