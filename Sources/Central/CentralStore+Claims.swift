import Foundation
import KioskCore
import SyncWire

/// Residents' accounts and claimed codes. A claim is settled (counted or voided) once its scan record is here:
/// at once when it is, else when the record arrives (`ingest` calls `settleClaims`).
extension CentralStore {
    struct ResidentAccount {
        var credential: OperatorCredential
        var failures: Int
        var lockedUntil: Int64?
    }

    func resident(_ nickname: String) async throws(CentralError) -> ResidentAccount? {
        guard let row = try await database.query("""
            SELECT nickname, salt, hash, rounds, created_at_ms, failures, locked_until_ms FROM residents
            WHERE nickname = \(bind: .text(nickname))
            """).first
        else { return nil }
        return ResidentAccount(
            credential: OperatorCredential(name: try row.text(0), salt: try row.bytes(1), hash: try row.bytes(2),
                                           rounds: Int(try row.int(3)), createdAtMilliseconds: try row.int(4)),
            failures: Int(try row.int(5)), lockedUntil: try row.optionalInt(6))
    }

    /// Adds an account; false when the nickname was taken meanwhile.
    func addResident(_ c: OperatorCredential) async throws(CentralError) -> Bool {
        !(try await database.query("""
            INSERT INTO residents (nickname, salt, hash, rounds, created_at_ms)
            VALUES (\(bind: .text(c.name)), \(bind: .blob(c.salt)), \(bind: .blob(c.hash)), \(bind: .integer(Int64(c.rounds))),
                    \(bind: .integer(c.createdAtMilliseconds)))
            ON CONFLICT (nickname) DO NOTHING RETURNING nickname
            """)).isEmpty
    }

    func recordFailure(_ nickname: String, failures: Int, lockedUntil: Int64?) async throws(CentralError) {
        try await database.execute("""
            UPDATE residents SET failures = \(bind: .integer(Int64(failures))), locked_until_ms = \(bind: lockedUntil.map { .integer($0) } ?? .null)
            WHERE nickname = \(bind: .text(nickname))
            """)
    }

    /// Stores the claim of a code (once per record) and settles it if its record is here.
    /// - Throws: `.nameTaken(resident)` naming who claimed the code before.
    func claim(_ code: ClaimCode, resident: String, now: Int64) async throws(CentralError) -> ClaimEntry {
        try await database.transaction { (db) throws(CentralError) -> ClaimEntry in
            let inserted = try await db.query("""
                INSERT INTO claims (record_id, kiosk, resident, issued_at_ms, claimed_at_ms, state)
                VALUES (\(bind: .uuid(code.record)), \(bind: .text(code.kiosk)), \(bind: .text(resident)),
                        \(bind: .integer(code.issuedAtSeconds * 1000)), \(bind: .integer(now)), \(bind: .text(ClaimState.pending.rawValue)))
                ON CONFLICT (record_id) DO NOTHING RETURNING record_id
                """)
            if inserted.isEmpty {
                let owner = try await db.query("SELECT resident FROM claims WHERE record_id = \(bind: .uuid(code.record))").first?.text(0)
                throw .nameTaken(owner ?? "")
            }
            try await Self.settleClaims(db, records: [code.record], now: now)
            guard let entry = try await Self.claimEntries(db, where: "record_id = \(bind: .uuid(code.record))", limit: 1).first else {
                throw .invalid("the claim of \(code.record) could not be read back")
            }
            return entry
        }
    }

    public func balance(resident: String, limit: Int) async throws(CentralError) -> PointsBalance {
        let totals = try await database.query("""
            SELECT CAST(COALESCE(SUM(CASE WHEN state = 'credited' THEN points ELSE 0 END), 0) AS BIGINT),
                   CAST(COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT)
            FROM claims WHERE resident = \(bind: .text(resident))
            """).first
        let history = try await Self.claimEntries(database, where: "resident = \(bind: .text(resident))", limit: limit)
        return PointsBalance(nickname: resident, points: Int(try totals?.int(0) ?? 0), pending: Int(try totals?.int(1) ?? 0),
                             history: history)
    }

    static func claimEntries(_ db: any SQLExecutor, where condition: SQL, limit: Int) async throws(CentralError) -> [ClaimEntry] {
        var sql: SQL = "SELECT record_id, kiosk, issued_at_ms, claimed_at_ms, state, category, points, reason FROM claims WHERE "
        sql.append(condition)
        sql.append(" ORDER BY claimed_at_ms DESC, record_id LIMIT \(bind: .integer(Int64(limit)))")
        return try await db.query(sql).map { (row) throws(CentralError) in
            guard let id = UUID(uuidString: try row.text(0)), let state = ClaimState(rawValue: try row.text(4)) else {
                throw .invalid("a stored claim has an unreadable id or state")
            }
            return ClaimEntry(record: id, kiosk: try row.text(1), issuedAtMilliseconds: try row.int(2), claimedAtMilliseconds: try row.int(3),
                              state: state, category: try row.optionalText(5).flatMap(WasteCategory.init(rawValue:)),
                              points: Int(try row.int(6)), reason: try row.optionalText(7))
        }
    }

    /// The points per bin that claims are counted with (set by `serve --catalogue`).
    public func setClaimPoints(_ points: [WasteCategory: Int]) async throws(CentralError) {
        let text = points.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ",")
        try await database.execute("""
            INSERT INTO server_settings (key, value) VALUES ('claim_points', \(bind: .text(text)))
            ON CONFLICT (key) DO UPDATE SET value = \(bind: .text(text))
            """)
    }

    static func claimPoints(_ db: any SQLExecutor) async throws(CentralError) -> [WasteCategory: Int] {
        guard let text = try await db.query("SELECT value FROM server_settings WHERE key = 'claim_points'").first?.text(0) else { return [:] }
        var points: [WasteCategory: Int] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let category = WasteCategory(rawValue: String(parts[0])), let n = Int(parts[1]) { points[category] = n }
        }
        return points
    }

    /// Settles the pending claims of these records that are here: credited with their bin's points, or void with
    /// the reason. Runs inside the caller's transaction.
    static func settleClaims(_ db: any SQLExecutor, records ids: [UUID], now: Int64) async throws(CentralError) {
        guard !ids.isEmpty else { return }
        var points: [WasteCategory: Int]?
        for start in stride(from: 0, to: ids.count, by: recordsPerStatement) {
            let chunk = ids[start..<min(start + recordsPerStatement, ids.count)]
            let rows = try await db.query("""
                SELECT c.record_id, c.kiosk, r.kiosk, r.category, r.correction FROM claims c JOIN records r ON r.id = c.record_id
                WHERE c.state = 'pending' AND c.record_id IN (\(SQL.list(chunk.map { .uuid($0) })))
                """)
            for row in rows {
                if points == nil { points = try await claimPoints(db) }
                guard let id = UUID(uuidString: try row.text(0)) else { throw .invalid("a stored claim has an unreadable record id") }
                let claimKiosk = try row.text(1), recordKiosk = try row.text(2)
                let category = try row.text(3)
                var state = ClaimState.void, earned = 0, reason: String?
                if claimKiosk != recordKiosk {
                    reason = "the code names kiosk \(claimKiosk), but its scan was made at \(recordKiosk)"
                } else if try row.optionalText(4) != nil {
                    reason = "the scan was corrected at the kiosk, so it earns no points"
                } else if let bin = WasteCategory(rawValue: category), let n = points?[bin], n > 0 {
                    state = .credited
                    earned = n
                } else {
                    reason = "\(category) scans earn no points"
                }
                try await db.execute("""
                    UPDATE claims SET state = \(bind: .text(state.rawValue)), category = \(bind: .text(category)),
                        points = \(bind: .integer(Int64(earned))), settled_at_ms = \(bind: .integer(now)),
                        reason = \(bind: reason.map { .text($0) } ?? .null)
                    WHERE record_id = \(bind: .uuid(id)) AND state = 'pending'
                    """)
            }
        }
    }

    /// Claims per kiosk and day (of the code), for the operators; `from`/`to` are days in the store's time zone.
    public func pointsTotals(from: CivilDay, to: CivilDay) async throws(CentralError) -> [PointsTotal] {
        let (start, end) = ExportBounds.milliseconds(StatsQuery(from: from, to: to, kiosk: nil), calendar: calendar)
        let rows = try await database.query("""
            SELECT kiosk, issued_at_ms, state, points FROM claims
            WHERE issued_at_ms >= \(bind: .integer(start)) AND issued_at_ms < \(bind: .integer(end))
            """)
        var totals: [String: PointsTotal] = [:]
        for row in rows {
            let kiosk = try row.text(0)
            let day = CivilDay.of(milliseconds: try row.int(1), calendar: calendar).description
            var t = totals["\(day) \(kiosk)"] ?? PointsTotal(day: day, kiosk: kiosk, claims: 0, credited: 0, pending: 0, void: 0, points: 0)
            t.claims += 1
            switch ClaimState(rawValue: try row.text(2)) {
            case .credited: t.credited += 1
            case .pending: t.pending += 1
            default: t.void += 1
            }
            t.points += Int(try row.int(3))
            totals["\(day) \(kiosk)"] = t
        }
        return totals.values.sorted { ($0.day, $0.kiosk) < ($1.day, $1.kiosk) }
    }
}

extension CivilDay {
    /// The day an instant falls on in a time zone.
    static func of(milliseconds: Int64, calendar: Calendar) -> CivilDay {
        today(in: calendar, now: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
