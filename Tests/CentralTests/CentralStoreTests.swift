import Central
import Foundation
import KioskCore
import SQLite
import SyncWire
import Testing

/// The central store's writes and schema on each backend.
@Suite struct CentralStoreTests {
    static let end: Int64 = 1_795_000_000_000

    static func record(_ n: Int64, kiosk: String = "station-1", capturedAt: Int64? = nil, model: String = "m1") -> ScanRecord {
        ScanRecord(kiosk: kiosk, capturedAtMilliseconds: capturedAt ?? end - n * 1000, sequence: n, label: "glass",
                   category: .recyclable, confidence: 0.9, top: [.init(label: "glass", p: 0.9), .init(label: "trash", p: 0.05)],
                   modelVersion: model, language: .en)
    }

    @Test(arguments: Backend.available)
    func quizAnswersAreStoredOnceAndCountedPerQuestion(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        var made: [QuizAnswer] = []
        for i in 0..<5 {
            let kiosk = i < 4 ? "station-1" : "station-2"
            let question = i % 2 == 0 ? "battery" : "big-bone"
            let right = i % 2 == 0 || i == 3
            made.append(QuizAnswer(kiosk: kiosk, answeredAtMilliseconds: Self.end - Int64(i), question: question,
                                   answer: .hazardous, right: right, language: .zh))
        }
        let answers = made
        try await database.store().whileRunning { store in
            let first = try await store.ingest(quiz: Array(answers[0..<4]), receivedAtMilliseconds: Self.end)
            #expect(first.map(\.status) == [.accepted, .accepted, .accepted, .accepted])
            let again = try await store.ingest(quiz: Array(answers[2...]), receivedAtMilliseconds: Self.end)
            #expect(again.map(\.status) == [.duplicate, .duplicate, .accepted])
            let totals = try await store.quizTotals()
            #expect(totals["battery"]?.answered == 3 && totals["battery"]?.right == 3)
            #expect(totals["big-bone"]?.answered == 2 && totals["big-bone"]?.right == 1)
            let one = try await store.quizTotals(kiosk: "station-2")
            #expect(one.count == 1 && one["battery"]?.answered == 1)
            // By the day answered (UTC here): 1_795_000_000_000 ms is 2026-11-18.
            let day = try #require(CivilDay(parsing: "2026-11-18"))
            #expect(try await store.quizTotals(from: day, to: day)["battery"]?.answered == 3)
            #expect(try await store.quizTotals(from: day.adding(days: 1), to: day.adding(days: 2)).isEmpty)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func takenNamesAndMissingOperatorsAreDomainAnswers(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await database.store().whileRunning { store in
            try await store.addDevice(name: "station-1", tokenHash: "h1", atMilliseconds: 0)
            await #expect(throws: CentralError.nameTaken("a kiosk named station-1 is already registered")) {
                try await store.addDevice(name: "station-1", tokenHash: "h2", atMilliseconds: 0)
            }
            #expect(try await store.tokenHash(forKiosk: "station-1") == "h1")
            #expect(try await store.kiosk(forTokenHash: "h1") == "station-1")
            #expect(try await store.kiosk(forTokenHash: "h2") == nil)
            let c = OperatorCredential(name: "ops", salt: [1, 2], hash: [3, 4], rounds: 1000, createdAtMilliseconds: 5)
            await #expect(throws: CentralError.notFound("no operator named ops")) { try await store.setOperator(c, replace: true) }
            try await store.setOperator(c, replace: false)
            await #expect(throws: CentralError.self) { try await store.setOperator(c, replace: false) }
            var reset = c
            reset.hash = [9, 9, 9]
            try await store.setOperator(reset, replace: true)
            #expect(try await store.operatorCredential(name: "ops") == reset)
            #expect(try await store.operatorCredential(name: "nobody") == nil)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func aBatchIsStoredOnceAndItsDuplicatesAnswered(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await database.store().whileRunning { store in
            try await store.addDevice(name: "station-1", tokenHash: "h", atMilliseconds: 0)
            let a = Self.record(1), b = Self.record(2)
            // The same record twice in one batch is stored once.
            let first = try await store.ingest([a, b, a], receivedAtMilliseconds: Self.end)
            #expect(first.map(\.status) == [.accepted, .accepted, .duplicate])
            #expect(first.map(\.id) == [a.id, b.id, a.id])
            #expect(try await store.ingest([b], receivedAtMilliseconds: Self.end).map(\.status) == [.duplicate])
            #expect(try await store.count(kiosk: "station-1") == 2)
            // More records than one statement holds.
            let many = (10..<1210).map { Self.record(Int64($0)) }
            let results = try await store.ingest(many, receivedAtMilliseconds: Self.end)
            #expect(results.allSatisfy { $0.status == .accepted } && results.count == 1200)
            #expect(try await store.count(kiosk: nil) == 1202)
            let s = try await store.statistics(StatsQuery(from: "2026-01-01", to: "2026-12-31", kiosk: nil), today: "2026-11-18")
            #expect(s.total == 1202 && s.kiosks.first?.recordsTotal == 1202)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func aKioskStateOnlyMovesForward(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await database.store().whileRunning { store in
            try await store.addDevice(name: "station-1", tokenHash: "h", atMilliseconds: 0)
            let all = StatsQuery(from: "2026-01-01", to: "2026-12-31", kiosk: nil)
            // Registered, never synced: no times, no model.
            var k = try #require(try await store.statistics(all, today: "2026-11-18").kiosks.first)
            #expect(k.lastSync == nil && k.newestScan == nil && k.modelVersion == nil && k.recordsTotal == 0)
            _ = try await store.ingest([Self.record(1, capturedAt: Self.end, model: "new")], receivedAtMilliseconds: Self.end + 10)
            // An older record arrives later (an outbox catching up): the newest scan and its model stay.
            let older = Self.record(2, capturedAt: Self.end - 86_400_000, model: "old")
            _ = try await store.ingest([older], receivedAtMilliseconds: Self.end + 20)
            // A batch of duplicates only: the batch time moves, nothing else.
            #expect(try await store.ingest([older], receivedAtMilliseconds: Self.end + 30).map(\.status) == [.duplicate])
            k = try #require(try await store.statistics(all, today: "2026-11-18").kiosks.first)
            #expect(k.newestScan == WallClock.iso8601(milliseconds: Self.end))
            #expect(k.modelVersion == "new")
            #expect(k.lastSync == WallClock.iso8601(milliseconds: Self.end + 30))
            #expect(k.recordsTotal == 2)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func aDatabaseFromANewerServerIsRefusedUntouched(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await database.store().whileRunning { _ in }
        let driver = try database.driver()
        try await FreshDatabase.running(driver) { db in
            switch backend {
            case .sqlite: try await db.execute("PRAGMA user_version = 99")
            case .postgres: try await db.execute("UPDATE kiosk_schema SET version = 99")
            }
        }
        await #expect(throws: CentralError.newerSchema(database: driver.name, version: 99, known: 8)) {
            try await database.store().whileRunning { _ in }
        }
        await database.remove()
    }

    /// A file made by the server before the store was rewritten (its DDL frozen here, version 3) opens upgraded with
    /// the same columns and indexes as a fresh one, and its records count the same.
    @Test func aVersionThreeFileUpgradesInPlace() async throws {
        let old = try await FreshDatabase.make(.sqlite), fresh = try await FreshDatabase.make(.sqlite)
        let records = StatisticsTests.fleet(kiosks: 2, records: 300, end: Self.end, seed: 11)
        do {
            let db = try SQLiteConnection(path: old.location)
            for (i, script) in Self.frozenVersions.enumerated() {
                try db.execute(script)
                try db.execute("PRAGMA user_version = \(i + 1)")
            }
            try db.execute("INSERT INTO devices VALUES ('station-1', 'h1', 0), ('station-2', 'h2', 0)")
            let insert = try db.prepare("""
                INSERT INTO records (id, kiosk, sequence, captured_at_ms, received_at_ms, label, category, confidence, top,
                    model_version, language, correction, thumbnail, asked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
                """)
            for r in records {
                let top = String(decoding: try WireJSON.encoder().encode(r.top), as: UTF8.self)
                try insert.run([.text(r.id.uuidString.lowercased()), .text(r.kiosk), .integer(r.sequence), .integer(r.capturedAtMilliseconds),
                                .integer(Self.end), .text(r.label), .text(r.category.rawValue), .real(r.confidence), .text(top),
                                .text(r.modelVersion), .text(r.language.rawValue), r.correction.map { .text($0) } ?? .null])
            }
        }
        let all = StatsQuery(from: "2026-01-01", to: "2026-12-31", kiosk: nil)
        let upgraded = try await old.store("Asia/Shanghai").whileRunning { store in
            try await store.statistics(all, today: "2026-11-18")
        }
        let expected = try await fresh.store("Asia/Shanghai").whileRunning { store in
            for k in 1...2 { try await store.addDevice(name: "station-\(k)", tokenHash: "h\(k)", atMilliseconds: 0) }
            for k in ["station-1", "station-2"] { _ = try await store.ingest(records.filter { $0.kiosk == k }, receivedAtMilliseconds: Self.end) }
            return try await store.statistics(all, today: "2026-11-18")
        }
        #expect(upgraded == expected)
        func schema(_ path: String) throws -> [String] {
            let db = try SQLiteConnection(path: path, readOnly: true)
            var lines: [String] = []
            try db.prepare("PRAGMA user_version").query { lines.append("version \($0.integer(0))") }
            var tables: [String] = []
            try db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").query { tables.append($0.text(0)) }
            for t in tables {
                try db.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)").query([.text(t)]) {
                    lines.append("\(t).\($0.text(0)) \($0.text(1)) notnull=\($0.integer(2)) default=\($0.text(3)) pk=\($0.integer(4))")
                }
                try db.prepare("SELECT il.name, ii.name FROM pragma_index_list(?) il, pragma_index_info(il.name) ii ORDER BY il.name, ii.seqno")
                    .query([.text(t)]) { lines.append("\(t) index \($0.text(0)) \($0.text(1))") }
            }
            return lines
        }
        let upgradedSchema = try schema(old.location), freshSchema = try schema(fresh.location)
        #expect(upgradedSchema.first == "version 8", "upgraded to the newest schema (field photos are version 8)")
        #expect(upgradedSchema == freshSchema)
        #expect(upgradedSchema.count > 40)
        await old.remove()
        await fresh.remove()
    }

    /// The SQLite migrations as kiosk-central wrote them up to this rewrite (never edit: they are what is deployed).
    static let frozenVersions = [
        """
        CREATE TABLE devices (name TEXT PRIMARY KEY NOT NULL, token_sha256 TEXT NOT NULL UNIQUE, created_at_ms INTEGER NOT NULL);
        CREATE TABLE records (id TEXT PRIMARY KEY NOT NULL, kiosk TEXT NOT NULL, sequence INTEGER NOT NULL,
            captured_at_ms INTEGER NOT NULL, received_at_ms INTEGER NOT NULL, label TEXT NOT NULL, category TEXT NOT NULL,
            confidence REAL NOT NULL, top TEXT NOT NULL, model_version TEXT NOT NULL, language TEXT NOT NULL, correction TEXT,
            thumbnail BLOB);
        CREATE INDEX records_kiosk ON records(kiosk, sequence);
        CREATE INDEX records_captured ON records(captured_at_ms);
        """,
        """
        CREATE TABLE stats_daily (day TEXT NOT NULL, kiosk TEXT NOT NULL, label TEXT NOT NULL, category TEXT NOT NULL,
            correction TEXT NOT NULL, uncertain INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, kiosk, label, category, correction, uncertain)) WITHOUT ROWID;
        CREATE INDEX stats_daily_kiosk ON stats_daily(kiosk, day);
        CREATE TABLE stats_hourly (day TEXT NOT NULL, hour INTEGER NOT NULL, kiosk TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, kiosk, hour)) WITHOUT ROWID;
        CREATE TABLE kiosk_state (kiosk TEXT PRIMARY KEY NOT NULL, last_batch_ms INTEGER, newest_scan_ms INTEGER,
            records INTEGER NOT NULL DEFAULT 0, model_version TEXT);
        CREATE TABLE operators (name TEXT PRIMARY KEY NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL, rounds INTEGER NOT NULL,
            created_at_ms INTEGER NOT NULL);
        CREATE TABLE server_settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
        """,
        "ALTER TABLE records ADD COLUMN asked INTEGER;",
    ]
}
