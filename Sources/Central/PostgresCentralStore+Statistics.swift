import Foundation
import KioskCore
import Logging
import PostgresNIO

/// The PostgreSQL store's rollups, statistics, export and operators.
extension PostgresCentralStore {
    func apply(_ rollup: Rollup, _ connection: PostgresConnection) async throws {
        for (k, n) in rollup.daily {
            try await connection.query("""
                INSERT INTO stats_daily (day, kiosk, label, category, correction, uncertain, n)
                VALUES (\(k.day), \(k.kiosk), \(k.label), \(k.category), \(k.correction ?? ""), \(k.uncertain), \(Int64(n)))
                ON CONFLICT (day, kiosk, label, category, correction, uncertain) DO UPDATE SET n = stats_daily.n + excluded.n
                """, logger: logger)
        }
        for (k, n) in rollup.hourly {
            try await connection.query("""
                INSERT INTO stats_hourly (day, hour, kiosk, n) VALUES (\(k.day), \(k.hour), \(k.kiosk), \(Int64(n)))
                ON CONFLICT (day, kiosk, hour) DO UPDATE SET n = stats_hourly.n + excluded.n
                """, logger: logger)
        }
    }

    func updateKioskState(_ connection: PostgresConnection, kiosk: String?, stored: [ScanRecord], now: Int64) async throws {
        guard let kiosk else { return }
        let newest = stored.max { $0.capturedAtMilliseconds < $1.capturedAtMilliseconds }
        try await connection.query("""
            INSERT INTO kiosk_state (kiosk, last_batch_ms, newest_scan_ms, records, model_version)
            VALUES (\(kiosk), \(now), \(newest?.capturedAtMilliseconds), \(Int64(stored.count)), \(newest?.modelVersion))
            ON CONFLICT (kiosk) DO UPDATE SET last_batch_ms = excluded.last_batch_ms,
                newest_scan_ms = GREATEST(kiosk_state.newest_scan_ms, excluded.newest_scan_ms),
                records = kiosk_state.records + excluded.records,
                model_version = CASE WHEN COALESCE(excluded.newest_scan_ms, 0) >= COALESCE(kiosk_state.newest_scan_ms, 0)
                                     THEN COALESCE(excluded.model_version, kiosk_state.model_version)
                                     ELSE kiosk_state.model_version END
            """, logger: logger)
    }

    /// Recomputes rollups and kiosk states from the records in SQL (the same day, hour and not-sure rules as
    /// `Rollup`), after the migration that added them or a change of the server's time zone.
    func rebuildRollups(_ connection: PostgresConnection) async throws {
        let zone = calendar.timeZone.identifier
        let uncertain = "COALESCE(asked, confidence < \(Rollup.notSureConfidence) OR COALESCE((top::json->0->>'p')::float8 - (top::json->1->>'p')::float8, 1) < \(Rollup.notSureMargin))"
        try await connection.query("DELETE FROM stats_daily", logger: logger)
        try await connection.query("DELETE FROM stats_hourly", logger: logger)
        try await connection.query("DELETE FROM kiosk_state", logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: """
            INSERT INTO stats_daily (day, kiosk, label, category, correction, uncertain, n)
            SELECT to_char(to_timestamp(captured_at_ms / 1000.0) AT TIME ZONE $1, 'YYYY-MM-DD'), kiosk, label, category,
                   COALESCE(correction, ''), \(uncertain), COUNT(*)
            FROM records GROUP BY 1, 2, 3, 4, 5, 6
            """, binds: Self.binds(zone)), logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: """
            INSERT INTO stats_hourly (day, hour, kiosk, n)
            SELECT to_char(to_timestamp(captured_at_ms / 1000.0) AT TIME ZONE $1, 'YYYY-MM-DD'),
                   EXTRACT(HOUR FROM to_timestamp(captured_at_ms / 1000.0) AT TIME ZONE $1)::int, kiosk, COUNT(*)
            FROM records GROUP BY 1, 2, 3
            """, binds: Self.binds(zone)), logger: logger)
        try await connection.query("""
            INSERT INTO kiosk_state (kiosk, last_batch_ms, newest_scan_ms, records, model_version)
            SELECT kiosk, MAX(received_at_ms), MAX(captured_at_ms), COUNT(*),
                   (array_agg(model_version ORDER BY captured_at_ms DESC))[1]
            FROM records GROUP BY kiosk
            """, logger: logger)
        try await connection.query("""
            INSERT INTO server_settings (key, value) VALUES ('rollup_time_zone', \(zone))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, logger: logger)
    }

    private static func binds(_ text: String) -> PostgresBindings {
        var b = PostgresBindings()
        b.append(text)
        return b
    }

    public func statistics(_ query: StatsQuery, today: String) async throws(CentralError) -> FleetStatistics {
        try await storage("reading statistics") { () async throws -> FleetStatistics in
            var rows = StatsRows()
            let kiosk = query.kiosk ?? ""
            let all = query.kiosk == nil
            // An empty kiosk name means "every kiosk" (names are never empty).
            let groups = try await client.query("""
                SELECT kiosk, label, category, correction, uncertain, SUM(n)::bigint FROM stats_daily
                WHERE day BETWEEN \(query.from) AND \(query.to) AND (\(all) OR kiosk = \(kiosk))
                GROUP BY kiosk, label, category, correction, uncertain
                """, logger: logger)
            for try await (k, label, category, correction, uncertain, n) in groups.decode((String, String, String, String, Bool, Int64).self) {
                let key = Rollup.DailyKey(day: "", kiosk: k, label: label, category: category,
                                          correction: correction.isEmpty ? nil : correction, uncertain: uncertain)
                rows.groups[key] = Int(n)
            }
            for try await (day, n) in try await client.query("""
                SELECT day, SUM(n)::bigint FROM stats_daily WHERE day BETWEEN \(query.from) AND \(query.to)
                AND (\(all) OR kiosk = \(kiosk)) GROUP BY day
                """, logger: logger).decode((String, Int64).self) { rows.perDay[day] = Int(n) }
            let recentFrom = DayMath.add(-29, to: today)
            for try await (day, n) in try await client.query("""
                SELECT day, SUM(n)::bigint FROM stats_daily WHERE day BETWEEN \(recentFrom) AND \(today)
                AND (\(all) OR kiosk = \(kiosk)) GROUP BY day
                """, logger: logger).decode((String, Int64).self) { rows.recentPerDay[day] = Int(n) }
            for try await (hour, n) in try await client.query("""
                SELECT hour, SUM(n)::bigint FROM stats_hourly WHERE day BETWEEN \(query.from) AND \(query.to)
                AND (\(all) OR kiosk = \(kiosk)) GROUP BY hour
                """, logger: logger).decode((Int, Int64).self) { rows.hourly.append(HourlyRow(hour: hour, count: Int(n))) }
            for try await (name, created, lastBatch, newest, records, model) in try await client.query("""
                SELECT d.name, d.created_at_ms, s.last_batch_ms, s.newest_scan_ms, COALESCE(s.records, 0), s.model_version
                FROM devices d LEFT JOIN kiosk_state s ON s.kiosk = d.name ORDER BY d.name
                """, logger: logger).decode((String, Int64, Int64?, Int64?, Int64, String?).self) {
                rows.kiosks.append(KioskState(name: name, createdAtMilliseconds: created, lastBatchMilliseconds: lastBatch,
                                              newestScanMilliseconds: newest, records: Int(records), modelVersion: model))
            }
            return FleetStatistics.build(query: query, today: today, rows: rows)
        }
    }

    public func exportRecords(_ query: StatsQuery, after cursor: ExportRow?, limit: Int) async throws(CentralError) -> [ExportRow] {
        let (start, end) = ExportBounds.milliseconds(query, calendar: calendar)
        return try await storage("exporting records") { () async throws -> [ExportRow] in
            let all = query.kiosk == nil
            let kiosk = query.kiosk ?? ""
            let afterTime = cursor?.capturedAtMilliseconds ?? Int64.min
            let afterID = cursor?.id ?? "00000000-0000-0000-0000-000000000000"
            let rows = try await client.query("""
                SELECT id::text, kiosk, sequence, captured_at_ms, received_at_ms, label, category, confidence, model_version,
                       language, correction FROM records
                WHERE captured_at_ms >= \(start) AND captured_at_ms < \(end) AND (\(all) OR kiosk = \(kiosk))
                  AND (captured_at_ms, id) > (\(afterTime), \(afterID)::uuid)
                ORDER BY captured_at_ms, id LIMIT \(Int64(max(1, limit)))
                """, logger: logger)
            var result: [ExportRow] = []
            for try await (id, k, seq, captured, received, label, category, confidence, model, language, correction)
                in rows.decode((String, String, Int64, Int64, Int64, String, String, Double, String, String, String?).self) {
                result.append(ExportRow(id: id, kiosk: k, sequence: seq, capturedAtMilliseconds: captured, receivedAtMilliseconds: received,
                                        label: label, category: category, confidence: confidence, modelVersion: model,
                                        language: language, correction: correction))
            }
            return result
        }
    }

    public func setOperator(_ c: OperatorCredential, replace: Bool) async throws(CentralError) {
        let salt = ByteBuffer(bytes: c.salt), hash = ByteBuffer(bytes: c.hash)
        let changed = try await storage("saving operator \(c.name)") { () async throws -> Bool in
            let rows = replace
                ? try await client.query("""
                    UPDATE operators SET salt = \(salt), hash = \(hash), rounds = \(c.rounds) WHERE name = \(c.name) RETURNING name
                    """, logger: logger)
                : try await client.query("""
                    INSERT INTO operators (name, salt, hash, rounds, created_at_ms)
                    VALUES (\(c.name), \(salt), \(hash), \(c.rounds), \(c.createdAtMilliseconds))
                    ON CONFLICT (name) DO NOTHING RETURNING name
                    """, logger: logger)
            var any = false
            for try await _ in rows { any = true }
            return any
        }
        if !changed {
            throw replace ? .invalid("no operator named \(c.name)")
                : .conflict("an operator named \(c.name) exists (use --reset to set a new password)")
        }
    }

    public func operatorCredential(name: String) async throws(CentralError) -> OperatorCredential? {
        try await storage("looking up operator \(name)") { () async throws -> OperatorCredential? in
            var c: OperatorCredential?
            for try await (n, salt, hash, rounds, created) in try await client.query(
                "SELECT name, salt, hash, rounds, created_at_ms FROM operators WHERE name = \(name)", logger: logger
            ).decode((String, ByteBuffer, ByteBuffer, Int, Int64).self) {
                c = OperatorCredential(name: n, salt: Array(buffer: salt), hash: Array(buffer: hash), rounds: rounds, createdAtMilliseconds: created)
            }
            return c
        }
    }
}
