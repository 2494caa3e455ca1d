import Foundation
import KioskCore
import Logging
import SyncWire

/// Where the central server keeps devices, records and the dashboard's rollups: every query, migration and rule
/// written once, over a database driver (SQLite by default, PostgreSQL for a fleet; see `SQLDatabase`).
public final class CentralStore: Sendable {
    public let database: any SQLDatabase
    /// Days and hours of the statistics are local to this calendar's time zone.
    public let calendar: Calendar
    let logger: Logger

    /// Records per multi-row INSERT: 14 binds each, 7,000 in all, under SQLite's 32,766 and PostgreSQL's 65,535.
    static let recordsPerStatement = 500

    public init(database: any SQLDatabase, timeZone: TimeZone = .current,
                logger: Logger = Logger(label: "kiosk-central.store")) {
        self.database = database
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        self.logger = logger
    }

    /// Keeps the database's connections alive until the task is cancelled.
    public func run() async { await database.run() }

    /// Checks the database answers, brings the schema up to date and rebuilds the rollups when they were made for
    /// another time zone or before they existed: one transaction, one migrator at a time. Call once `run` is going.
    public func prepare() async throws(CentralError) {
        try await database.connect()
        let calendar = self.calendar, name = database.name
        let rebuilt = try await database.transaction { (db) throws(CentralError) -> RebuildCount? in
            _ = try await CentralSchema.migrate(db, database: name)
            let zone = try await db.query("SELECT value FROM server_settings WHERE key = 'rollup_time_zone'").first?.text(0)
            guard zone != calendar.timeZone.identifier else { return nil }
            return try await Self.rebuildRollups(db, calendar: calendar)
        }
        if let rebuilt, rebuilt.records > 0 {
            logger.info("rollups rebuilt", metadata: ["records": "\(rebuilt.records)", "time_zone": "\(calendar.timeZone.identifier)"])
            if rebuilt.unreadableTop > 0 {
                logger.warning("records with an unreadable top column: counted as not sure by confidence alone",
                               metadata: ["records": "\(rebuilt.unreadableTop)"])
            }
        }
    }

    /// Runs `body` with the store running and prepared, then stops it: for one-shot admin commands.
    public func whileRunning<R: Sendable>(_ body: @Sendable (CentralStore) async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                await self.run()
                return nil
            }
            defer { group.cancelAll() }
            try await prepare()
            return try await body(self)
        }
    }

    /// Registers a kiosk with the SHA-256 (hex) of its token. Throws `.nameTaken` when the name is taken.
    public func addDevice(name: String, tokenHash: String, atMilliseconds now: Int64) async throws(CentralError) {
        let rows = try await database.query("""
            INSERT INTO devices (name, token_sha256, created_at_ms) VALUES (\(bind: .text(name)), \(bind: .text(tokenHash)), \(bind: .integer(now)))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """)
        if rows.isEmpty { throw .nameTaken("a kiosk named \(name) is already registered") }
    }

    /// The kiosk a token hash belongs to.
    public func kiosk(forTokenHash hash: String) async throws(CentralError) -> String? {
        try await database.query("SELECT name FROM devices WHERE token_sha256 = \(bind: .text(hash))").first?.text(0)
    }

    /// The kiosk's token hash (its bundle signing key, hex), nil when unknown.
    public func tokenHash(forKiosk name: String) async throws(CentralError) -> String? {
        try await database.query("SELECT token_sha256 FROM devices WHERE name = \(bind: .text(name))").first?.text(0)
    }

    /// Stores the records that are new, all in one transaction, and counts them in the rollups; answers per
    /// record, in order (a record twice in one batch is accepted once).
    public func ingest(_ records: [ScanRecord], receivedAtMilliseconds now: Int64) async throws(CentralError) -> [BatchResponse.Result] {
        guard let kiosk = records.first?.kiosk else { return [] }
        let calendar = self.calendar
        return try await database.transaction { (db) throws(CentralError) -> [BatchResponse.Result] in
            var inserted = Set<String>()
            let encoder = WireJSON.encoder()
            for start in stride(from: 0, to: records.count, by: Self.recordsPerStatement) {
                let chunk = records[start..<min(start + Self.recordsPerStatement, records.count)]
                let values = try chunk.map { (r) throws(CentralError) in try Self.values(of: r, receivedAt: now, encoder: encoder) }
                let returned = try await db.query("""
                    INSERT INTO records (id, kiosk, sequence, captured_at_ms, received_at_ms, label, category, confidence,
                        top, model_version, language, correction, thumbnail, asked)
                    VALUES \(SQL.rows(values)) ON CONFLICT (id) DO NOTHING RETURNING id
                    """)
                for row in returned { inserted.insert(try row.text(0)) }
            }
            var rollup = Rollup()
            var stored: [ScanRecord] = []
            let results = records.map { r -> BatchResponse.Result in
                let accepted = inserted.remove(r.id.uuidString.lowercased()) != nil
                if accepted {
                    rollup.add(r, calendar: calendar)
                    stored.append(r)
                }
                return .init(id: r.id, status: accepted ? .accepted : .duplicate)
            }
            try await Self.apply(rollup, db)
            // Codes claimed before their scan arrived are counted now.
            try await Self.settleClaims(db, records: stored.map(\.id), now: now)
            let newest = stored.max { $0.capturedAtMilliseconds < $1.capturedAtMilliseconds }
            try await Self.updateKioskState(
                db, KioskTotals(lastBatch: now, newestScan: newest?.capturedAtMilliseconds, records: stored.count,
                                modelVersion: newest?.modelVersion), kiosk: kiosk)
            return results
        }
    }

    /// Stores quiz answers (all of one kiosk, already checked); one result per answer, in order.
    public func ingest(quiz answers: [QuizAnswer], receivedAtMilliseconds now: Int64) async throws(CentralError) -> [BatchResponse.Result] {
        guard !answers.isEmpty else { return [] }
        return try await database.transaction { (db) throws(CentralError) -> [BatchResponse.Result] in
            var inserted = Set<String>()
            for start in stride(from: 0, to: answers.count, by: Self.recordsPerStatement) {
                let values = answers[start..<min(start + Self.recordsPerStatement, answers.count)].map { a -> [SQLValue] in
                    [.uuid(a.id), .text(a.kiosk), .integer(a.answeredAtMilliseconds), .integer(now), .text(a.question),
                     .text(a.answer.rawValue), .bool(a.right), .text(a.language.rawValue)]
                }
                let returned = try await db.query("""
                    INSERT INTO quiz_answers (id, kiosk, answered_at_ms, received_at_ms, question, answer, correct, language)
                    VALUES \(SQL.rows(values)) ON CONFLICT (id) DO NOTHING RETURNING id
                    """)
                for row in returned { inserted.insert(try row.text(0)) }
            }
            return answers.map { .init(id: $0.id, status: inserted.remove($0.id.uuidString.lowercased()) != nil ? .accepted : .duplicate) }
        }
    }

    /// Quiz answers held, per question: how often asked and how often answered right (the dashboard's "what
    /// residents get wrong"); with `from`/`to`, only answers given on those days (the store's time zone).
    public func quizTotals(kiosk: String? = nil, from: CivilDay? = nil, to: CivilDay? = nil) async throws(CentralError) -> [String: (answered: Int, right: Int)] {
        var sql: SQL = "SELECT question, COUNT(*), SUM(CASE WHEN correct THEN 1 ELSE 0 END) FROM quiz_answers WHERE 1 = 1"
        if let kiosk { sql.append(" AND kiosk = \(bind: .text(kiosk))") }
        if let from, let to {
            let (start, end) = ExportBounds.milliseconds(StatsQuery(from: from, to: to, kiosk: nil), calendar: calendar)
            sql.append(" AND answered_at_ms >= \(bind: .integer(start)) AND answered_at_ms < \(bind: .integer(end))")
        }
        sql.append(" GROUP BY question")
        var totals: [String: (answered: Int, right: Int)] = [:]
        for row in try await database.query(sql) {
            totals[try row.text(0)] = (Int(try row.int(1)), Int(try row.int(2)))
        }
        return totals
    }

    static func values(of r: ScanRecord, receivedAt now: Int64, encoder: JSONEncoder) throws(CentralError) -> [SQLValue] {
        let top: String
        do {
            top = String(decoding: try encoder.encode(r.top), as: UTF8.self)
        } catch {
            throw .invalid("record \(r.id.uuidString.lowercased()): its top guesses cannot be stored: \(error)")
        }
        return [
            .uuid(r.id), .text(r.kiosk), .integer(r.sequence), .integer(r.capturedAtMilliseconds), .integer(now),
            .text(r.label), .text(r.category.rawValue), .real(r.confidence), .text(top), .text(r.modelVersion),
            .text(r.language.rawValue), r.correction.map { .text($0) } ?? .null,
            r.thumbnail.map { .blob([UInt8]($0)) } ?? .null, r.asked.map { .bool($0) } ?? .null,
        ]
    }

    public func count(kiosk: String?) async throws(CentralError) -> Int {
        var sql: SQL = "SELECT COUNT(*) FROM records"
        if let kiosk { sql.append(" WHERE kiosk = \(bind: .text(kiosk))") }
        return Int(try await database.query(sql).first?.int(0) ?? 0)
    }
}
