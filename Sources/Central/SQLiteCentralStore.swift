import Dispatch
import Foundation
import KioskCore
import SQLite
import SyncWire

/// The central store on SQLite: one connection, used only on its own serial queue, so neither the event loops nor
/// the cooperative pool ever wait on the disk.
public final class SQLiteCentralStore: CentralStore, @unchecked Sendable {
    // `connection` is touched only inside `queue` (see `run`); that is what makes this class Sendable.
    private let connection: SQLiteConnection
    private let queue = DispatchQueue(label: "kiosk-central.sqlite")
    public let path: String
    /// Days and hours of the statistics are local to this calendar's time zone.
    public let calendar: Calendar

    static let migrations: [String] = [
        """
        CREATE TABLE devices (
            name TEXT PRIMARY KEY NOT NULL,
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at_ms INTEGER NOT NULL
        );
        CREATE TABLE records (
            id TEXT PRIMARY KEY NOT NULL,
            kiosk TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            captured_at_ms INTEGER NOT NULL,
            received_at_ms INTEGER NOT NULL,
            label TEXT NOT NULL,
            category TEXT NOT NULL,
            confidence REAL NOT NULL,
            top TEXT NOT NULL,
            model_version TEXT NOT NULL,
            language TEXT NOT NULL,
            correction TEXT,
            thumbnail BLOB
        );
        CREATE INDEX records_kiosk ON records(kiosk, sequence);
        CREATE INDEX records_captured ON records(captured_at_ms);
        """,
        // The dashboard: rollups kept with the records (see Rollup), kiosks' latest state, operators.
        """
        CREATE TABLE stats_daily (
            day TEXT NOT NULL, kiosk TEXT NOT NULL, label TEXT NOT NULL, category TEXT NOT NULL,
            correction TEXT NOT NULL, uncertain INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, kiosk, label, category, correction, uncertain)
        ) WITHOUT ROWID;
        CREATE INDEX stats_daily_kiosk ON stats_daily(kiosk, day);
        CREATE TABLE stats_hourly (
            day TEXT NOT NULL, hour INTEGER NOT NULL, kiosk TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, kiosk, hour)
        ) WITHOUT ROWID;
        CREATE TABLE kiosk_state (
            kiosk TEXT PRIMARY KEY NOT NULL, last_batch_ms INTEGER, newest_scan_ms INTEGER,
            records INTEGER NOT NULL DEFAULT 0, model_version TEXT
        );
        CREATE TABLE operators (
            name TEXT PRIMARY KEY NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL, rounds INTEGER NOT NULL,
            created_at_ms INTEGER NOT NULL
        );
        CREATE TABLE server_settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
        """,
        "ALTER TABLE records ADD COLUMN asked INTEGER;",
    ]

    public init(path: String, timeZone: TimeZone = .current) throws(CentralError) {
        self.path = path
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        do throws(StoreError) {
            connection = try SQLiteConnection.durable(path: path)
            try connection.migrate(Self.migrations, program: "kiosk-central")
        } catch {
            throw .storage(error.description)
        }
    }

    public func run() async {
        // Nothing to keep alive; wait until cancelled like a service.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Migrations run in init (SQLite opens synchronously); here the rollups are rebuilt when they were made for
    /// another time zone or before they existed.
    public func prepare() async throws(CentralError) {
        let calendar = self.calendar
        try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) in
                var zone: String?
                try db.prepare("SELECT value FROM server_settings WHERE key = 'rollup_time_zone'").query { row in zone = row.text(0) }
                if zone != calendar.timeZone.identifier { try Self.rebuildRollups(db, calendar: calendar) }
            }
        }
    }

    func run<R: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(CentralError) -> R) async throws(CentralError) -> R {
        let result: Result<R, CentralError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(CentralError) {
                    continuation.resume(returning: .success(try body(self.connection)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    static func storage<R>(_ body: () throws(StoreError) -> R) throws(CentralError) -> R {
        do {
            return try body()
        } catch {
            throw .storage(error.description)
        }
    }

    public func addDevice(name: String, tokenHash: String, atMilliseconds now: Int64) async throws(CentralError) {
        try await run { (db) throws(CentralError) in
            let taken = try Self.storage { () throws(StoreError) -> Bool in
                var found = false
                try db.prepare("SELECT 1 FROM devices WHERE name = ?").query([.text(name)]) { _ in found = true }
                return found
            }
            if taken { throw .conflict("a kiosk named \(name) is already registered") }
            try Self.storage { () throws(StoreError) in
                try db.prepare("INSERT INTO devices (name, token_sha256, created_at_ms) VALUES (?, ?, ?)")
                    .run([.text(name), .text(tokenHash), .integer(now)])
            }
        }
    }

    public func kiosk(forTokenHash hash: String) async throws(CentralError) -> String? {
        try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) -> String? in
                var name: String?
                try db.prepare("SELECT name FROM devices WHERE token_sha256 = ?").query([.text(hash)]) { row in name = row.text(0) }
                return name
            }
        }
    }

    public func tokenHash(forKiosk name: String) async throws(CentralError) -> String? {
        try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) -> String? in
                var hash: String?
                try db.prepare("SELECT token_sha256 FROM devices WHERE name = ?").query([.text(name)]) { row in hash = row.text(0) }
                return hash
            }
        }
    }

    public func ingest(_ records: [ScanRecord], receivedAtMilliseconds now: Int64) async throws(CentralError) -> [BatchResponse.Result] {
        let calendar = self.calendar
        return try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) -> [BatchResponse.Result] in
                // One transaction: a batch is stored whole or not at all.
                try db.transaction { () throws(StoreError) -> [BatchResponse.Result] in
                    let insert = try db.prepare("""
                        INSERT INTO records (id, kiosk, sequence, captured_at_ms, received_at_ms, label, category,
                            confidence, top, model_version, language, correction, thumbnail, asked)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING
                        """)
                    let encoder = WireJSON.encoder()
                    var rollup = Rollup()
                    let results = try records.map { (r) throws(StoreError) -> BatchResponse.Result in
                        let top = (try? String(decoding: encoder.encode(r.top), as: UTF8.self)) ?? "[]"
                        try insert.run([
                            .text(r.id.uuidString.lowercased()), .text(r.kiosk), .integer(r.sequence),
                            .integer(r.capturedAtMilliseconds), .integer(now), .text(r.label), .text(r.category.rawValue),
                            .real(r.confidence), .text(top), .text(r.modelVersion), .text(r.language.rawValue),
                            r.correction.map { .text($0) } ?? .null, r.thumbnail.map { .blob([UInt8]($0)) } ?? .null,
                            r.asked.map { .integer($0 ? 1 : 0) } ?? .null,
                        ])
                        let accepted = db.changes == 1
                        if accepted { rollup.add(r, calendar: calendar) }
                        return .init(id: r.id, status: accepted ? .accepted : .duplicate)
                    }
                    let stored = records.enumerated().filter { results[$0.offset].status == .accepted }.map(\.element)
                    try Self.apply(rollup, db)
                    try Self.updateKioskState(db, kiosk: records.first?.kiosk, stored: stored, now: now)
                    return results
                }
            }
        }
    }

    public func count(kiosk: String?) async throws(CentralError) -> Int {
        try await run { (db) throws(CentralError) in
            try Self.storage { () throws(StoreError) -> Int in
                var n: Int64 = 0
                if let kiosk {
                    try db.prepare("SELECT COUNT(*) FROM records WHERE kiosk = ?").query([.text(kiosk)]) { row in n = row.integer(0) }
                } else {
                    try db.prepare("SELECT COUNT(*) FROM records").query { row in n = row.integer(0) }
                }
                return Int(n)
            }
        }
    }
}
