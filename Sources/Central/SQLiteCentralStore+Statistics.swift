import Foundation
import KioskCore
import SQLite

/// The SQLite store's rollups, statistics, export and operators.
extension SQLiteCentralStore {
    static func apply(_ rollup: Rollup, _ db: SQLiteConnection) throws(StoreError) {
        let daily = try db.prepare("""
            INSERT INTO stats_daily (day, kiosk, label, category, correction, uncertain, n) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(day, kiosk, label, category, correction, uncertain) DO UPDATE SET n = n + excluded.n
            """)
        for (k, n) in rollup.daily {
            try daily.run([.text(k.day), .text(k.kiosk), .text(k.label), .text(k.category), .text(k.correction ?? ""),
                           .integer(k.uncertain ? 1 : 0), .integer(Int64(n))])
        }
        let hourly = try db.prepare("""
            INSERT INTO stats_hourly (day, hour, kiosk, n) VALUES (?, ?, ?, ?)
            ON CONFLICT(day, kiosk, hour) DO UPDATE SET n = n + excluded.n
            """)
        for (k, n) in rollup.hourly {
            try hourly.run([.text(k.day), .integer(Int64(k.hour)), .text(k.kiosk), .integer(Int64(n))])
        }
    }

    static func updateKioskState(_ db: SQLiteConnection, kiosk: String?, stored: [ScanRecord], now: Int64) throws(StoreError) {
        guard let kiosk else { return }
        let newest = stored.max { $0.capturedAtMilliseconds < $1.capturedAtMilliseconds }
        try db.prepare("""
            INSERT INTO kiosk_state (kiosk, last_batch_ms, newest_scan_ms, records, model_version) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(kiosk) DO UPDATE SET last_batch_ms = excluded.last_batch_ms,
                newest_scan_ms = MAX(COALESCE(newest_scan_ms, 0), COALESCE(excluded.newest_scan_ms, 0)),
                records = records + excluded.records,
                model_version = CASE WHEN excluded.newest_scan_ms >= COALESCE(newest_scan_ms, 0)
                                     THEN COALESCE(excluded.model_version, model_version) ELSE model_version END
            """).run([.text(kiosk), .integer(now), newest.map { .integer($0.capturedAtMilliseconds) } ?? .null,
                      .integer(Int64(stored.count)), newest.map { .text($0.modelVersion) } ?? .null])
    }

    /// Recomputes the rollups and kiosk states from the records (after the migration that added them, or a
    /// change of the server's time zone).
    static func rebuildRollups(_ db: SQLiteConnection, calendar: Calendar) throws(StoreError) {
        try db.transaction { () throws(StoreError) in
            try db.execute("DELETE FROM stats_daily; DELETE FROM stats_hourly; DELETE FROM kiosk_state;")
            var rollup = Rollup()
            var flushed = 0
            try db.prepare("SELECT kiosk, captured_at_ms, label, category, confidence, top, correction, asked FROM records")
                .query { (row) throws(StoreError) in
                    let top = (try? JSONDecoder().decode([ScanRecord.Guess].self, from: Data(row.text(5).utf8))) ?? []
                    let r = ScanRecord(
                        kiosk: row.text(0), capturedAtMilliseconds: row.integer(1), label: row.text(2),
                        category: WasteCategory(rawValue: row.text(3)) ?? .other, confidence: row.real(4), top: top,
                        modelVersion: "", language: .zh, correction: row.isNull(6) ? nil : row.text(6),
                        asked: row.isNull(7) ? nil : row.integer(7) != 0)
                    rollup.add(r, calendar: calendar)
                    flushed += 1
                    if flushed % 100_000 == 0 {
                        try apply(rollup, db)
                        rollup = Rollup()
                    }
                }
            try apply(rollup, db)
            try db.execute("""
                INSERT INTO kiosk_state (kiosk, last_batch_ms, newest_scan_ms, records, model_version)
                SELECT kiosk, MAX(received_at_ms), MAX(captured_at_ms), COUNT(*),
                       (SELECT model_version FROM records r2 WHERE r2.kiosk = r.kiosk ORDER BY captured_at_ms DESC LIMIT 1)
                FROM records r GROUP BY kiosk;
                """)
            try db.prepare("INSERT INTO server_settings (key, value) VALUES ('rollup_time_zone', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                .run([.text(calendar.timeZone.identifier)])
        }
    }

    public func statistics(_ query: StatsQuery, today: String) async throws(CentralError) -> FleetStatistics {
        try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) -> FleetStatistics in
                let filter = query.kiosk == nil ? "" : " AND kiosk = ?"
                let range: [SQLiteStatement.Value] = [.text(query.from), .text(query.to)] + (query.kiosk.map { [.text($0)] } ?? [])
                var rows = StatsRows()
                try db.prepare("""
                    SELECT kiosk, label, category, correction, uncertain, SUM(n) FROM stats_daily
                    WHERE day BETWEEN ? AND ?\(filter) GROUP BY kiosk, label, category, correction, uncertain
                    """).query(range) { row in
                    let key = Rollup.DailyKey(day: "", kiosk: row.text(0), label: row.text(1), category: row.text(2),
                                              correction: row.text(3).isEmpty ? nil : row.text(3), uncertain: row.integer(4) != 0)
                    rows.groups[key] = Int(row.integer(5))
                }
                try db.prepare("SELECT day, SUM(n) FROM stats_daily WHERE day BETWEEN ? AND ?\(filter) GROUP BY day")
                    .query(range) { row in rows.perDay[row.text(0)] = Int(row.integer(1)) }
                let recent: [SQLiteStatement.Value] = [.text(DayMath.add(-29, to: today)), .text(today)] + (query.kiosk.map { [.text($0)] } ?? [])
                try db.prepare("SELECT day, SUM(n) FROM stats_daily WHERE day BETWEEN ? AND ?\(filter) GROUP BY day")
                    .query(recent) { row in rows.recentPerDay[row.text(0)] = Int(row.integer(1)) }
                try db.prepare("SELECT hour, SUM(n) FROM stats_hourly WHERE day BETWEEN ? AND ?\(filter) GROUP BY hour")
                    .query(range) { row in rows.hourly.append(HourlyRow(hour: Int(row.integer(0)), count: Int(row.integer(1)))) }
                try db.prepare("""
                    SELECT d.name, d.created_at_ms, s.last_batch_ms, s.newest_scan_ms, COALESCE(s.records, 0), s.model_version
                    FROM devices d LEFT JOIN kiosk_state s ON s.kiosk = d.name ORDER BY d.name
                    """).query { row in
                    rows.kiosks.append(KioskState(
                        name: row.text(0), createdAtMilliseconds: row.integer(1),
                        lastBatchMilliseconds: row.isNull(2) ? nil : row.integer(2),
                        newestScanMilliseconds: row.isNull(3) ? nil : row.integer(3), records: Int(row.integer(4)),
                        modelVersion: row.isNull(5) ? nil : row.text(5)))
                }
                return FleetStatistics.build(query: query, today: today, rows: rows)
            }
        }
    }

    public func exportRecords(_ query: StatsQuery, after cursor: ExportRow?, limit: Int) async throws(CentralError) -> [ExportRow] {
        let (start, end) = ExportBounds.milliseconds(query, calendar: calendar)
        return try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) -> [ExportRow] in
                var values: [SQLiteStatement.Value] = [.integer(start), .integer(end)]
                var sql = """
                    SELECT id, kiosk, sequence, captured_at_ms, received_at_ms, label, category, confidence, model_version,
                           language, correction FROM records WHERE captured_at_ms >= ? AND captured_at_ms < ?
                    """
                if let kiosk = query.kiosk { sql += " AND kiosk = ?"; values.append(.text(kiosk)) }
                if let cursor {
                    sql += " AND (captured_at_ms, id) > (?, ?)"
                    values += [.integer(cursor.capturedAtMilliseconds), .text(cursor.id)]
                }
                sql += " ORDER BY captured_at_ms, id LIMIT \(max(1, limit))"
                var result: [ExportRow] = []
                try db.prepare(sql).query(values) { row in
                    result.append(ExportRow(
                        id: row.text(0), kiosk: row.text(1), sequence: row.integer(2), capturedAtMilliseconds: row.integer(3),
                        receivedAtMilliseconds: row.integer(4), label: row.text(5), category: row.text(6), confidence: row.real(7),
                        modelVersion: row.text(8), language: row.text(9), correction: row.isNull(10) ? nil : row.text(10)))
                }
                return result
            }
        }
    }

    public func setOperator(_ c: OperatorCredential, replace: Bool) async throws(CentralError) {
        try await run { (db) throws(CentralError) in
            let exists = try Self.storage { () throws(StoreError) -> Bool in
                var found = false
                try db.prepare("SELECT 1 FROM operators WHERE name = ?").query([.text(c.name)]) { _ in found = true }
                return found
            }
            if exists && !replace { throw .conflict("an operator named \(c.name) exists (use --reset to set a new password)") }
            if !exists && replace { throw .invalid("no operator named \(c.name)") }
            try Self.storage { () throws(StoreError) in
                try db.prepare("""
                    INSERT INTO operators (name, salt, hash, rounds, created_at_ms) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET salt = excluded.salt, hash = excluded.hash, rounds = excluded.rounds
                    """).run([.text(c.name), .blob(c.salt), .blob(c.hash), .integer(Int64(c.rounds)), .integer(c.createdAtMilliseconds)])
            }
        }
    }

    public func operatorCredential(name: String) async throws(CentralError) -> OperatorCredential? {
        try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) -> OperatorCredential? in
                var c: OperatorCredential?
                try db.prepare("SELECT name, salt, hash, rounds, created_at_ms FROM operators WHERE name = ?").query([.text(name)]) { row in
                    c = OperatorCredential(name: row.text(0), salt: row.blob(1) ?? [], hash: row.blob(2) ?? [],
                                           rounds: Int(row.integer(3)), createdAtMilliseconds: row.integer(4))
                }
                return c
            }
        }
    }
}

/// The capture-time bounds (milliseconds, end exclusive) of a query's local days.
enum ExportBounds {
    static func milliseconds(_ query: StatsQuery, calendar: Calendar) -> (Int64, Int64) {
        func start(of day: String) -> Int64 {
            let p = day.split(separator: "-").map { Int($0)! }
            let date = calendar.date(from: DateComponents(year: p[0], month: p[1], day: p[2])) ?? Date(timeIntervalSince1970: 0)
            return Int64(date.timeIntervalSince1970 * 1000)
        }
        return (start(of: query.from), start(of: DayMath.add(1, to: query.to)))
    }
}
