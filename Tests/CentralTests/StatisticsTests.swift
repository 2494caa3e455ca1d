import Central
import Foundation
import KioskCore
import Testing

/// The dashboard's figures on a generated fleet, checked against the database's own counts of the records.
@Suite struct StatisticsTests {
    static let labels = ["cardboard", "glass", "metal", "paper", "plastic", "trash", "electronics", "food"]
    static let bins: [String: WasteCategory] = [
        "cardboard": .recyclable, "glass": .recyclable, "metal": .recyclable, "paper": .recyclable, "plastic": .recyclable,
        "trash": .other, "electronics": .eWaste, "food": .kitchen,
    ]

    /// A seeded fleet: `kiosks` kiosks, records spread over the 40 days before `end`, some corrected.
    static func fleet(kiosks: Int, records: Int, end: Int64, seed: UInt64) -> [ScanRecord] {
        var g = SeededGenerator(seed: seed)
        var sequence: [String: Int64] = [:]
        return (0..<records).map { _ in
            let kiosk = "station-\(Int.random(in: 1...kiosks, using: &g))"
            sequence[kiosk, default: 0] += 1
            let label = labels.randomElement(using: &g)!
            let p = Double.random(in: 0.3...0.99, using: &g)
            let second = labels.filter { $0 != label }.randomElement(using: &g)!
            let p2 = Double.random(in: 0...(1 - p), using: &g)
            let correction: String? = switch Int.random(in: 0..<10, using: &g) {
            case 0: second
            case 1: "category:hazardous"
            default: nil
            }
            return ScanRecord(
                kiosk: kiosk, capturedAtMilliseconds: end - Int64.random(in: 0..<(40 * 86_400_000), using: &g),
                sequence: sequence[kiosk]!, label: label, category: bins[label]!, confidence: p,
                top: [.init(label: label, p: p), .init(label: second, p: p2)], modelVersion: "m\(Int.random(in: 1...2, using: &g))",
                language: .zh, correction: correction)
        }
    }

    /// Records whose local day lies in [from, to], counted by the database from the records table itself.
    static func databaseCount(_ store: CentralStore, _ zone: TimeZone, from: CivilDay, to: CivilDay, kiosk: String? = nil,
                              extra: SQL = "") async throws -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        func start(_ day: CivilDay) -> Int64 {
            let (y, m, d) = day.date
            return Int64(calendar.date(from: DateComponents(year: y, month: m, day: d))!.timeIntervalSince1970 * 1000)
        }
        var sql: SQL = """
            SELECT COUNT(*) FROM records WHERE captured_at_ms >= \(bind: .integer(start(from)))
            AND captured_at_ms < \(bind: .integer(start(to.adding(days: 1))))
            """
        if let kiosk { sql.append(" AND kiosk = \(bind: .text(kiosk))") }
        sql.append(extra)
        return Int(try await store.database.query(sql).first?.int(0) ?? -1)
    }

    @Test(arguments: Backend.available)
    func figuresEqualTheDatabasesOwnCounts(_ backend: Backend) async throws {
        let zone = "Asia/Shanghai"
        let database = try await FreshDatabase.make(backend)
        try await database.store(zone).whileRunning { store in
            let end: Int64 = 1_795_000_000_000  // 2026-11-18
            let records = Self.fleet(kiosks: 4, records: 3000, end: end, seed: 7)
            for k in 1...4 { try await store.addDevice(name: "station-\(k)", tokenHash: "h\(k)", atMilliseconds: 0) }
            // By kiosk, in batches, with every batch delivered twice (duplicates must not count).
            for kiosk in Set(records.map(\.kiosk)) {
                let mine = records.filter { $0.kiosk == kiosk }
                for start in stride(from: 0, to: mine.count, by: 200) {
                    let batch = Array(mine[start..<min(start + 200, mine.count)])
                    let first = try await store.ingest(batch, receivedAtMilliseconds: end)
                    let again = try await store.ingest(batch, receivedAtMilliseconds: end + 1)
                    #expect(first.allSatisfy { $0.status == .accepted } && again.allSatisfy { $0.status == .duplicate })
                }
            }
            let tz = TimeZone(identifier: zone)!
            let today: CivilDay = "2026-11-18"
            for (from, to, kiosk) in [("2026-10-19", "2026-11-18", nil), ("2026-11-01", "2026-11-10", "station-2"),
                                      ("2026-10-01", "2026-12-31", nil), ("2026-11-18", "2026-11-18", "station-4")] as [(CivilDay, CivilDay, String?)] {
                let s = try await store.statistics(StatsQuery(from: from, to: to, kiosk: kiosk), today: today)
                #expect(s.total == (try await Self.databaseCount(store, tz, from: from, to: to, kiosk: kiosk)), "\(from)…\(to) \(kiosk ?? "all")")
                for category in WasteCategory.allCases {
                    #expect((s.perCategory[category.rawValue] ?? 0)
                            == (try await Self.databaseCount(store, tz, from: from, to: to, kiosk: kiosk,
                                                             extra: " AND category = \(bind: .text(category.rawValue))")))
                }
                let corrected = try await Self.databaseCount(store, tz, from: from, to: to, kiosk: kiosk,
                                                             extra: " AND correction IS NOT NULL AND correction != label")
                #expect(s.accuracy.reduce(0) { $0 + $1.corrected } == corrected)
                #expect(s.hourly.reduce(0, +) == s.total)
                #expect(s.kiosks.reduce(0) { $0 + $1.records } == s.total)
                // Each day of the trend equals the database's count for that day.
                for day in s.daily.suffix(5) {
                    let civil = try #require(CivilDay(parsing: day.day))
                    #expect(day.count == (try await Self.databaseCount(store, tz, from: civil, to: civil, kiosk: kiosk)), "\(day.day)")
                }
            }
            let overview = try await store.statistics(StatsQuery(from: "2026-10-20", to: today, kiosk: nil), today: today)
            #expect(overview.total > 2000 && overview.today > 0 && overview.notSure > 0)
            #expect(overview.accuracy.contains { $0.correctedTo["category:hazardous"] ?? 0 > 0 })
            #expect(overview.today == (try await Self.databaseCount(store, tz, from: today, to: today)))
            #expect(overview.last7Days == (try await Self.databaseCount(store, tz, from: "2026-11-12", to: today)))
            #expect(overview.last30Days == (try await Self.databaseCount(store, tz, from: "2026-10-20", to: today)))
            #expect(overview.kiosks.map(\.recordsTotal).reduce(0, +) == records.count)
            #expect(overview.kiosks.allSatisfy { $0.lastSync != nil && $0.modelVersion != nil })
            // The not-sure share uses the kiosks' default thresholds on each record's top two guesses.
            let notSure = records.filter { r in
                let day = CivilDay.today(in: { var c = Calendar(identifier: .gregorian); c.timeZone = tz; return c }(),
                                        now: Date(timeIntervalSince1970: Double(r.capturedAtMilliseconds) / 1000))
                return day >= "2026-10-20" && day <= today && Rollup.isUncertain(r)
            }.count
            #expect(overview.notSure == notSure)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func rollupsAreRebuiltForAnotherTimeZone(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        let end: Int64 = 1_795_000_000_000
        let records = Self.fleet(kiosks: 2, records: 500, end: end, seed: 3)
        let before = try await database.store("UTC").whileRunning { store in
            for k in 1...2 { try await store.addDevice(name: "station-\(k)", tokenHash: "h\(k)", atMilliseconds: 0) }
            for k in ["station-1", "station-2"] {
                _ = try await store.ingest(records.filter { $0.kiosk == k }, receivedAtMilliseconds: end)
            }
            return try await store.statistics(StatsQuery(from: "2026-01-01", to: "2026-12-31", kiosk: nil), today: "2026-11-18")
        }
        // The same database opened by a server in another zone: its days move, the totals and kiosk states stay.
        let newYork = TimeZone(identifier: "America/New_York")!
        try await database.store("America/New_York").whileRunning { moved in
            let day: CivilDay = "2026-11-10"
            let s = try await moved.statistics(StatsQuery(from: day, to: day, kiosk: nil), today: "2026-11-18")
            #expect(s.total == (try await Self.databaseCount(moved, newYork, from: day, to: day)))
            #expect(s.hourly.reduce(0, +) == s.total)
            let all = try await moved.statistics(StatsQuery(from: "2026-01-01", to: "2026-12-31", kiosk: nil), today: "2026-11-18")
            #expect(all.total == 500)
            #expect(all.notSure == before.notSure)
            #expect(all.accuracy == before.accuracy)
            #expect(all.kiosks == before.kiosks)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func whatTheKioskSaysAboutAskingWinsOverTheEstimate(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        let end: Int64 = 1_795_000_000_000
        @Sendable func record(_ n: Int64, p: Double, asked: Bool?) -> ScanRecord {
            ScanRecord(kiosk: "station-1", capturedAtMilliseconds: end - n, sequence: n, label: "glass", category: .recyclable,
                       confidence: p, top: [.init(label: "glass", p: p), .init(label: "trash", p: 1 - p)], modelVersion: "m",
                       language: .zh, asked: asked)
        }
        try await database.store("UTC").whileRunning { store in
            try await store.addDevice(name: "station-1", tokenHash: "h", atMilliseconds: 0)
            // Sure by the thresholds but asked (a kiosk with stricter settings), unsure by them but not asked, and
            // one that does not say (estimated: 0.5 is unsure).
            _ = try await store.ingest([record(1, p: 0.9, asked: true), record(2, p: 0.5, asked: false), record(3, p: 0.5, asked: nil),
                                        record(4, p: 0.95, asked: nil)], receivedAtMilliseconds: end)
            let s = try await store.statistics(StatsQuery(from: "2026-11-01", to: "2026-11-30", kiosk: nil), today: "2026-11-18")
            #expect(s.total == 4)
            #expect(s.notSure == 2)
            #expect(s.kiosks.first?.notSureShare == 0.5)
        }
        // Rebuilt from the records, the same.
        try await database.store("Europe/London").whileRunning { again in
            let s = try await again.statistics(StatsQuery(from: "2026-11-01", to: "2026-11-30", kiosk: nil), today: "2026-11-18")
            #expect(s.notSure == 2)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func exportPagesThroughEveryRecordOnce(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        let end: Int64 = 1_795_000_000_000
        let records = Self.fleet(kiosks: 1, records: 730, end: end, seed: 5)
        try await database.store("UTC").whileRunning { store in
            try await store.addDevice(name: "station-1", tokenHash: "h", atMilliseconds: 0)
            _ = try await store.ingest(records, receivedAtMilliseconds: end)
            var cursor: ExportRow?
            var seen: [String] = []
            let query = StatsQuery(from: "2026-01-01", to: "2026-12-31", kiosk: "station-1")
            while true {
                let page = try await store.exportRecords(query, after: cursor, limit: 100)
                if page.isEmpty { break }
                seen += page.map(\.id)
                cursor = page.last
            }
            #expect(seen.count == 730)
            #expect(Set(seen) == Set(records.map { $0.id.uuidString.lowercased() }))
            // In (capture time, id) order.
            let times = try await store.exportRecords(query, after: nil, limit: 1000).map(\.capturedAtMilliseconds)
            #expect(times == times.sorted())
        }
        await database.remove()
    }

    @Test func csvFieldsAreQuotedAndFormulasDefused() {
        let row = ExportRow(id: "i", kiosk: "k", sequence: 1, capturedAtMilliseconds: 0, receivedAtMilliseconds: 0,
                            label: "=HYPERLINK(\"x\")", category: "other", confidence: 0.5, modelVersion: "a,b",
                            language: "zh", correction: nil)
        #expect(row.csvLine == "i,k,1,1970-01-01T00:00:00Z,1970-01-01T00:00:00Z,\"'=HYPERLINK(\"\"x\"\")\",other,0.5000,\"a,b\",zh,")
    }

    @Test func passwordsVerifyAndWrongOnesDoNot() throws {
        let c = try OperatorCredential(name: "ops", password: "correct horse battery", rounds: 1000)
        #expect(c.verify("correct horse battery"))
        #expect(!c.verify("correct horse batterY"))
        #expect(!c.verify(""))
        #expect(c.salt.count == 16 && c.hash.count == 32)
        #expect(OperatorCredential.problem(password: "short") != nil)
    }

    @Test func daysParseStepAndRejectImpossibleDates() {
        #expect(CivilDay(parsing: "2024-02-29")?.description == "2024-02-29")
        for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "1969-12-31", "+026-01-01", "2026-0a-01", "'; DROP TABLE records; --", ""] {
            #expect(CivilDay(parsing: bad) == nil, "\(bad)")
        }
        #expect(CivilDay(parsing: "2024-02-28")?.adding(days: 1).description == "2024-02-29")
        #expect(CivilDay(parsing: "2026-01-01")?.adding(days: -1).description == "2025-12-31")
        #expect(CivilDay(parsing: "1970-01-01")?.ordinal == 0)
        #expect(CivilDay(year: 9999, month: 12, day: 31)?.description == "9999-12-31")
        #expect(CivilDay(parsing: "2026-11-28")!.through(CivilDay(parsing: "2026-12-02")!).count == 5)
        #expect(CivilDay(parsing: "2026-12-02")!.through(CivilDay(parsing: "2026-11-28")!).isEmpty)
        for n in stride(from: 0, to: 30_000, by: 97) {
            let day = CivilDay(ordinal: n)
            #expect(CivilDay(parsing: day.description) == day)
        }
    }
}

/// SplitMix64: a seeded generator so the generated fleet is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
