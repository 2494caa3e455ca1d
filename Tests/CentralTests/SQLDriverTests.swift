import Central
import Foundation
import SQLite
import Testing

/// The two database drivers under the central store: placeholders, values, transactions and typed errors.
@Suite struct SQLDriverTests {
    @Test func placeholdersAreGeneratedPerDialect() {
        let hash = "ab'; DROP TABLE devices; --"
        var sql: SQL = "SELECT name FROM devices WHERE token_sha256 = \(bind: .text(hash)) AND created_at_ms > \(bind: .integer(5))"
        sql.append(" LIMIT \(bind: .integer(1))")
        #expect(sql.rendered(for: .sqlite).text == "SELECT name FROM devices WHERE token_sha256 = ? AND created_at_ms > ? LIMIT ?")
        #expect(sql.rendered(for: .postgres).text == "SELECT name FROM devices WHERE token_sha256 = $1 AND created_at_ms > $2 LIMIT $3")
        #expect(sql.rendered(for: .postgres).binds == [.text(hash), .integer(5), .integer(1)])
        let rows = SQL.rows([[.integer(1), .null], [.integer(2), .bool(true)]])
        #expect(rows.rendered(for: .postgres).text == "($1, $2), ($3, $4)")
        let ddl: SQL = "CREATE TABLE t (a \(.int64), b \(.bool), c \(.uuid))\(.withoutRowID)"
        #expect(ddl.rendered(for: .sqlite).text == "CREATE TABLE t (a INTEGER, b INTEGER, c TEXT) WITHOUT ROWID")
        #expect(ddl.rendered(for: .postgres).text == "CREATE TABLE t (a BIGINT, b BOOLEAN, c UUID)")
        // What an error quotes: the text, never the values.
        #expect(!"\(sql)".contains("DROP"))
    }

    @Test(arguments: Backend.available)
    func everyValueRoundTrips(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        let id = UUID()
        let bytes: [UInt8] = [0, 1, 254, 255, 39, 92]
        try await FreshDatabase.running(try database.driver()) { db in
            try await db.execute("""
                CREATE TABLE t (i \(.int64), i32 \(.int32), d \(.double), s \(.text), b \(.bytes), f \(.bool), u \(.uuid), n \(.text))
                """)
            try await db.execute("""
                INSERT INTO t VALUES (\(bind: .integer(Int64.min)), \(bind: .integer(-7)), \(bind: .real(0.1)),
                    \(bind: .text("雪碧 'quoted' \\ ;")), \(bind: .blob(bytes)), \(bind: .bool(true)), \(bind: .uuid(id)), \(bind: .null))
                """)
            let row = try #require(try await db.query("SELECT i, i32, d, s, b, f, u, n FROM t WHERE u = \(bind: .uuid(id))").first)
            #expect(try row.int(0) == Int64.min)
            #expect(try row.int(1) == -7)
            #expect(try row.double(2) == 0.1)
            #expect(try row.text(3) == "雪碧 'quoted' \\ ;")
            #expect(try row.bytes(4) == bytes)
            #expect(try row.bool(5))
            #expect(try row.text(6) == id.uuidString.lowercased())
            #expect(row.isNull(7))
            #expect(try row.optionalText(7) == nil)
            // The wrong type is an error naming the column, not a zero.
            #expect(throws: CentralError.self) { try row.int(3) }
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func aTransactionThatThrowsLeavesNothing(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await FreshDatabase.running(try database.driver()) { db in
            try await db.execute("CREATE TABLE t (k \(.text) PRIMARY KEY NOT NULL)")
            await #expect(throws: CentralError.self) {
                try await db.transaction { (tx) throws(CentralError) in
                    try await tx.execute("INSERT INTO t VALUES ('a')")
                    try await tx.execute("INSERT INTO t VALUES ('a')")  // a conflict: the first insert goes too
                }
            }
            #expect(try await db.query("SELECT COUNT(*) FROM t").first?.int(0) == 0)
            let kept = try await db.transaction { (tx) throws(CentralError) -> Int in
                try await tx.execute("INSERT INTO t VALUES ('b')")
                return Int(try await tx.query("SELECT COUNT(*) FROM t").first?.int(0) ?? -1)
            }
            #expect(kept == 1)
        }
        await database.remove()
    }

    @Test(arguments: Backend.available)
    func failuresAreClassified(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await FreshDatabase.running(try database.driver()) { db in
            try await db.execute("CREATE TABLE t (k \(.text) PRIMARY KEY NOT NULL, n \(.int64) NOT NULL)")
            try await db.execute("INSERT INTO t VALUES ('a', 1)")
            let duplicate = await Self.failure { () async throws(CentralError) in
                try await db.execute("INSERT INTO t VALUES (\(bind: .text("a")), 2)")
            }
            guard case .conflict(let f)? = duplicate else { Issue.record("a duplicate key: \(String(describing: duplicate))"); return }
            // SQLITE_CONSTRAINT_PRIMARYKEY; unique_violation.
            #expect(f.code == (backend == .sqlite ? .sqlite(1555) : .postgres(sqlState: "23505")), "\(f)")
            #expect(f.statement?.contains("INSERT INTO t") == true)
            #expect(f.database == db.name)
            let syntax = await Self.failure { () async throws(CentralError) in _ = try await db.query("SELEC 1") }
            guard case .failed(let g)? = syntax else { Issue.record("a syntax error: \(String(describing: syntax))"); return }
            if backend == .postgres { #expect(g.code == .postgres(sqlState: "42601")) }
            if backend == .postgres {
                // PostgreSQL's SUM of a BIGINT is NUMERIC: read without a CAST, it fails loudly.
                let numeric = await Self.failure { () async throws(CentralError) in _ = try await db.query("SELECT SUM(n) FROM t") }
                guard case .failed(let h)? = numeric else { Issue.record("a NUMERIC column: \(String(describing: numeric))"); return }
                #expect(h.message.contains("CAST"), "\(h)")
                #expect(try await db.query("SELECT CAST(SUM(n) AS BIGINT) FROM t").first?.int(0) == 1)
            }
        }
        await database.remove()
    }

    @Test func sqliteTellsALockedFileADamagedOneAndAMissingFolderApart() async throws {
        let path = NSTemporaryDirectory() + "central-driver-\(UUID().uuidString).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let db = try SQLiteDatabase(path: path, busyTimeout: .zero)
        try await db.execute("CREATE TABLE t (k \(.text))")
        // Another process's writer (the admin CLI) holds the lock: busy, at once with no timeout.
        let other = try SQLiteConnection(path: path)
        try other.execute("BEGIN IMMEDIATE")
        let locked = await Self.failure { () async throws(CentralError) in try await db.execute("INSERT INTO t VALUES ('x')") }
        guard case .busy(let f)? = locked else { Issue.record("another writer's lock: \(String(describing: locked))"); return }
        #expect(f.code == .sqlite(5))
        try other.execute("ROLLBACK")
        try await db.execute("INSERT INTO t VALUES ('x')")

        let garbage = NSTemporaryDirectory() + "central-driver-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: garbage))
        let damaged = await Self.failure { () async throws(CentralError) in try await SQLiteDatabase(path: garbage).connect() }
        guard case .corrupt(let g)? = damaged else { Issue.record("a file of garbage: \(String(describing: damaged))"); return }
        #expect(g.code == .sqlite(26))
        let missing = await Self.failure { () async throws(CentralError) in
            _ = try SQLiteDatabase(path: "/nonexistent-\(UUID().uuidString)/central.sqlite")
        }
        guard case .unavailable(let h)? = missing else { Issue.record("a missing folder: \(String(describing: missing))"); return }
        #expect(h.code == .sqlite(14))
    }

    /// The error `body` throws, nil when it throws none.
    static func failure(_ body: () async throws(CentralError) -> Void) async -> CentralError? {
        do {
            try await body()
            return nil
        } catch {
            return error
        }
    }

    /// One connection, many tasks: each transaction's read-modify-write must see no other's statements.
    @Test func sqliteTransactionsNeverInterleave() async throws {
        let path = NSTemporaryDirectory() + "central-driver-\(UUID().uuidString).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let db = try SQLiteDatabase(path: path)
        try await db.execute("CREATE TABLE counter (n \(.int64) NOT NULL)")
        try await db.execute("INSERT INTO counter VALUES (0)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await db.transaction { (tx) throws(CentralError) in
                        let n = try await tx.query("SELECT n FROM counter").first?.int(0) ?? -1
                        await Task.yield()
                        try await tx.execute("UPDATE counter SET n = \(bind: .integer(n + 1))")
                    }
                }
                group.addTask { _ = try await db.query("SELECT n FROM counter") }
            }
            try await group.waitForAll()
        }
        #expect(try await db.query("SELECT n FROM counter").first?.int(0) == 40)
    }
}
