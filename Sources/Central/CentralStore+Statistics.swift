import Foundation
import KioskCore
import SyncWire

/// A kiosk's latest state as one ingest (or the rebuild) adds it to `kiosk_state`.
struct KioskTotals: Sendable {
    var lastBatch: Int64
    var newestScan: Int64?
    var records: Int
    var modelVersion: String?
}

/// How many records a rebuild read, and how many of those had a `top` column it could not read.
struct RebuildCount: Sendable {
    var records = 0
    var unreadableTop = 0
}

/// The rollups, statistics, export and operators.
extension CentralStore {
    /// Rollup rows per multi-row upsert.
    static let keysPerStatement = 1000
    /// Records per page of the rebuild.
    static let rebuildPage = 50_000

    /// Adds a rollup's counts: one multi-row upsert per table and chunk, keys sorted so concurrent batches take
    /// PostgreSQL's row locks in the same order (no deadlock).
    static func apply(_ rollup: Rollup, _ db: any SQLExecutor) async throws(CentralError) {
        let daily = rollup.daily.map { (k, n) -> [SQLValue] in
            [.text(k.day), .text(k.kiosk), .text(k.label), .text(k.category), .text(k.correction ?? ""), .bool(k.uncertain),
             .integer(Int64(n))]
        }
        for chunk in sortedChunks(daily) {
            try await db.execute("""
                INSERT INTO stats_daily (day, kiosk, label, category, correction, uncertain, n) VALUES \(SQL.rows(chunk))
                ON CONFLICT (day, kiosk, label, category, correction, uncertain) DO UPDATE SET n = stats_daily.n + excluded.n
                """)
        }
        let hourly = rollup.hourly.map { (k, n) -> [SQLValue] in
            [.text(k.day), .text(k.kiosk), .integer(Int64(k.hour)), .integer(Int64(n))]
        }
        for chunk in sortedChunks(hourly) {
            try await db.execute("""
                INSERT INTO stats_hourly (day, kiosk, hour, n) VALUES \(SQL.rows(chunk))
                ON CONFLICT (day, kiosk, hour) DO UPDATE SET n = stats_hourly.n + excluded.n
                """)
        }
    }

    /// Rows sorted by their key columns (all but the last, the count), in chunks.
    static func sortedChunks(_ rows: [[SQLValue]]) -> [ArraySlice<[SQLValue]>] {
        func key(_ row: [SQLValue]) -> [String] {
            row.dropLast().map { v in
                switch v {
                case .text(let t): t
                case .bool(let b): b ? "1" : "0"
                case .integer(let i): String(format: "%020lld", i)
                default: ""
                }
            }
        }
        // Each row's key is made once, not at every comparison.
        let sorted = rows.map { (key: key($0), row: $0) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.row)
        return stride(from: 0, to: sorted.count, by: keysPerStatement).map { sorted[$0..<min($0 + keysPerStatement, sorted.count)] }
    }

    /// One atomic upsert: the newest scan and its model only move forward, records add up.
    static func updateKioskState(_ db: any SQLExecutor, _ t: KioskTotals, kiosk: String) async throws(CentralError) {
        try await db.execute("""
            INSERT INTO kiosk_state (kiosk, last_batch_ms, newest_scan_ms, records, model_version)
            VALUES (\(bind: .text(kiosk)), \(bind: .integer(t.lastBatch)), \(bind: t.newestScan.map { .integer($0) } ?? .null),
                    \(bind: .integer(Int64(t.records))), \(bind: t.modelVersion.map { .text($0) } ?? .null))
            ON CONFLICT (kiosk) DO UPDATE SET
                last_batch_ms = CASE WHEN kiosk_state.last_batch_ms IS NULL OR excluded.last_batch_ms > kiosk_state.last_batch_ms
                                     THEN excluded.last_batch_ms ELSE kiosk_state.last_batch_ms END,
                newest_scan_ms = CASE WHEN kiosk_state.newest_scan_ms IS NULL OR excluded.newest_scan_ms > kiosk_state.newest_scan_ms
                                      THEN excluded.newest_scan_ms ELSE kiosk_state.newest_scan_ms END,
                records = kiosk_state.records + excluded.records,
                model_version = CASE WHEN excluded.model_version IS NOT NULL AND (kiosk_state.newest_scan_ms IS NULL
                                          OR excluded.newest_scan_ms >= kiosk_state.newest_scan_ms)
                                     THEN excluded.model_version ELSE kiosk_state.model_version END
            """)
    }

    /// Recomputes the rollups and kiosk states from the records with the same Swift rules as ingest (after the
    /// migration that added them, or a change of the server's time zone), a page of records at a time.
    static func rebuildRollups(_ db: any SQLExecutor, calendar: Calendar) async throws(CentralError) -> RebuildCount {
        try await db.execute("DELETE FROM stats_daily")
        try await db.execute("DELETE FROM stats_hourly")
        try await db.execute("DELETE FROM kiosk_state")
        var count = RebuildCount()
        var kiosks: [String: KioskTotals] = [:]
        var newestModel: [String: (captured: Int64, model: String)] = [:]
        var cursor: SQLValue?
        let decoder = WireJSON.decoder()
        while true {
            // `top` is read only where the kiosk did not say whether it asked: only then does the rule need it.
            var sql: SQL = """
                SELECT id, kiosk, captured_at_ms, received_at_ms, label, category, confidence,
                       CASE WHEN asked IS NULL THEN top END, correction, asked, model_version FROM records
                """
            if let cursor { sql.append(" WHERE id > \(bind: cursor)") }
            sql.append(" ORDER BY id LIMIT \(bind: .integer(Int64(rebuildPage)))")
            let rows = try await db.query(sql)
            var rollup = Rollup()
            for row in rows {
                let kiosk = try row.text(1), captured = try row.int(2), received = try row.int(3)
                let confidence = try row.double(6), asked = try row.optionalBool(9), model = try row.text(10)
                var top: [ScanRecord.Guess] = []
                if asked == nil, let text = try row.optionalText(7) {
                    if let guesses = try? decoder.decode([ScanRecord.Guess].self, from: Data(text.utf8)) {
                        top = guesses
                    } else {
                        count.unreadableTop += 1
                    }
                }
                rollup.add(kiosk: kiosk, capturedAtMilliseconds: captured, label: try row.text(4), category: try row.text(5),
                           correction: try row.optionalText(8),
                           uncertain: Rollup.isUncertain(asked: asked, confidence: confidence, top: top), calendar: calendar)
                var t = kiosks[kiosk] ?? KioskTotals(lastBatch: received, newestScan: captured, records: 0, modelVersion: nil)
                t.lastBatch = max(t.lastBatch, received)
                t.newestScan = max(t.newestScan ?? captured, captured)
                t.records += 1
                kiosks[kiosk] = t
                if captured >= newestModel[kiosk]?.captured ?? Int64.min { newestModel[kiosk] = (captured, model) }
            }
            count.records += rows.count
            try await apply(rollup, db)
            guard rows.count == rebuildPage, let last = rows.last?.values.first else { break }
            cursor = last
        }
        for (kiosk, var t) in kiosks.sorted(by: { $0.key < $1.key }) {
            t.modelVersion = newestModel[kiosk]?.model
            try await updateKioskState(db, t, kiosk: kiosk)
        }
        try await db.execute("""
            INSERT INTO server_settings (key, value) VALUES ('rollup_time_zone', \(bind: .text(calendar.timeZone.identifier)))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """)
        return count
    }

    /// The dashboard's figures for a range of local days, from the rollup tables; `today` is the server's day.
    public func statistics(_ query: StatsQuery, today: CivilDay) async throws(CentralError) -> FleetStatistics {
        let kiosk: SQL = query.kiosk.map { " AND kiosk = \(bind: .text($0))" } ?? ""
        func days(_ from: CivilDay, _ to: CivilDay) -> SQL {
            "day BETWEEN \(bind: .text(from.description)) AND \(bind: .text(to.description))" + kiosk
        }
        var rows = StatsRows()
        for row in try await database.query("""
            SELECT kiosk, label, category, correction, uncertain, CAST(SUM(n) AS BIGINT) FROM stats_daily
            WHERE \(days(query.from, query.to)) GROUP BY kiosk, label, category, correction, uncertain
            """) {
            let correction = try row.text(3)
            let key = Rollup.DailyKey(day: "", kiosk: try row.text(0), label: try row.text(1), category: try row.text(2),
                                      correction: correction.isEmpty ? nil : correction, uncertain: try row.bool(4))
            rows.groups[key] = Int(try row.int(5))
        }
        for row in try await database.query(
            "SELECT day, CAST(SUM(n) AS BIGINT) FROM stats_daily WHERE \(days(query.from, query.to)) GROUP BY day") {
            rows.perDay[try row.text(0)] = Int(try row.int(1))
        }
        for row in try await database.query(
            "SELECT day, CAST(SUM(n) AS BIGINT) FROM stats_daily WHERE \(days(today.adding(days: -29), today)) GROUP BY day") {
            rows.recentPerDay[try row.text(0)] = Int(try row.int(1))
        }
        for row in try await database.query(
            "SELECT hour, CAST(SUM(n) AS BIGINT) FROM stats_hourly WHERE \(days(query.from, query.to)) GROUP BY hour") {
            rows.hourly.append(HourlyRow(hour: Int(try row.int(0)), count: Int(try row.int(1))))
        }
        for row in try await database.query("""
            SELECT d.name, d.created_at_ms, s.last_batch_ms, s.newest_scan_ms, COALESCE(s.records, 0), s.model_version
            FROM devices d LEFT JOIN kiosk_state s ON s.kiosk = d.name ORDER BY d.name
            """) {
            rows.kiosks.append(KioskState(
                name: try row.text(0), createdAtMilliseconds: try row.int(1), lastBatchMilliseconds: try row.optionalInt(2),
                newestScanMilliseconds: try row.optionalInt(3), records: Int(try row.int(4)), modelVersion: try row.optionalText(5)))
        }
        return FleetStatistics.build(query: query, today: today, rows: rows)
    }

    /// Records captured in the query's days, in (capture time, id) order, `limit` at a time after `cursor`.
    public func exportRecords(_ query: StatsQuery, after cursor: ExportRow?, limit: Int) async throws(CentralError) -> [ExportRow] {
        let (start, end) = ExportBounds.milliseconds(query, calendar: calendar)
        var sql: SQL = """
            SELECT id, kiosk, sequence, captured_at_ms, received_at_ms, label, category, confidence, model_version,
                   language, correction FROM records
            WHERE captured_at_ms >= \(bind: .integer(start)) AND captured_at_ms < \(bind: .integer(end))
            """
        if let kiosk = query.kiosk { sql.append(" AND kiosk = \(bind: .text(kiosk))") }
        if let cursor {
            guard let id = UUID(uuidString: cursor.id) else { throw .invalid("export cursor \(cursor.id) is not a record id") }
            sql.append(" AND (captured_at_ms, id) > (\(bind: .integer(cursor.capturedAtMilliseconds)), \(bind: .uuid(id)))")
        }
        sql.append(" ORDER BY captured_at_ms, id LIMIT \(bind: .integer(Int64(max(1, limit))))")
        return try await database.query(sql).map { (row) throws(CentralError) in
            ExportRow(
                id: try row.text(0), kiosk: try row.text(1), sequence: try row.int(2), capturedAtMilliseconds: try row.int(3),
                receivedAtMilliseconds: try row.int(4), label: try row.text(5), category: try row.text(6),
                confidence: try row.double(7), modelVersion: try row.text(8), language: try row.text(9),
                correction: try row.optionalText(10))
        }
    }

    /// Adds an operator (dashboard and stats API); with `replace`, sets a new password for an existing one.
    public func setOperator(_ c: OperatorCredential, replace: Bool) async throws(CentralError) {
        if replace {
            let rows = try await database.query("""
                UPDATE operators SET salt = \(bind: .blob(c.salt)), hash = \(bind: .blob(c.hash)), rounds = \(bind: .integer(Int64(c.rounds)))
                WHERE name = \(bind: .text(c.name)) RETURNING name
                """)
            if rows.isEmpty { throw .notFound("no operator named \(c.name)") }
        } else {
            let rows = try await database.query("""
                INSERT INTO operators (name, salt, hash, rounds, created_at_ms)
                VALUES (\(bind: .text(c.name)), \(bind: .blob(c.salt)), \(bind: .blob(c.hash)), \(bind: .integer(Int64(c.rounds))),
                        \(bind: .integer(c.createdAtMilliseconds)))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """)
            if rows.isEmpty { throw .nameTaken("an operator named \(c.name) exists (use --reset to set a new password)") }
        }
    }

    public func operatorCredential(name: String) async throws(CentralError) -> OperatorCredential? {
        guard let row = try await database.query(
            "SELECT name, salt, hash, rounds, created_at_ms FROM operators WHERE name = \(bind: .text(name))").first
        else { return nil }
        return OperatorCredential(name: try row.text(0), salt: try row.bytes(1), hash: try row.bytes(2), rounds: Int(try row.int(3)),
                                  createdAtMilliseconds: try row.int(4))
    }
}
