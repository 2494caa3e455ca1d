import Dispatch
import Foundation
import SQLite
import Synchronization

/// The central store's SQLite database: one connection, used only on its own serial queue, so neither the
/// event loops nor the cooperative pool ever wait on the disk. A FIFO gate admits one statement or one whole
/// transaction at a time, so a transaction's statements never interleave with another's.
public final class SQLiteDatabase: SQLDatabase, @unchecked Sendable {
    // `connection` is touched only inside `queue` (see `onQueue`), and only by the holder of `gate`: that is
    // what makes this class Sendable.
    private let connection: SQLiteConnection
    private let queue = DispatchQueue(label: "kiosk-central.sqlite")
    private let gate = AsyncGate()
    public let name: String
    public var dialect: SQLDialect { .sqlite }

    /// The oldest SQLite with `RETURNING`, which the store's writes use.
    static let minimumVersion: Int32 = 3_035_000

    public init(path: String, busyTimeout: Duration = .seconds(10)) throws(CentralError) {
        name = path
        do throws(StoreError) {
            guard SQLiteConnection.libraryVersion >= Self.minimumVersion else {
                throw StoreError(path: path, reason: "SQLite \(SQLiteConnection.libraryVersionText) is too old (3.35 or newer is needed)")
            }
            connection = try SQLiteConnection.durable(path: path, busyTimeout: busyTimeout)
        } catch {
            throw Self.classify(error, database: path)
        }
    }

    public func run() async {
        // Nothing to keep alive; wait until cancelled like a service.
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    public func connect() async throws(CentralError) {
        // Reading the schema fails at once on a file that is not a database.
        _ = try await query("SELECT COUNT(*) FROM sqlite_master")
    }

    public func execute(_ sql: SQL) async throws(CentralError) {
        await gate.enter()
        defer { gate.leave() }
        try await onQueue { (db) throws(CentralError) in try Self.execute(sql, db) }
    }

    public func query(_ sql: SQL) async throws(CentralError) -> [SQLRow] {
        await gate.enter()
        defer { gate.leave() }
        return try await onQueue { [name] (db) throws(CentralError) in try Self.query(sql, db, name) }
    }

    public func transaction<R: Sendable>(
        _ body: @Sendable (any SQLExecutor) async throws(CentralError) -> R
    ) async throws(CentralError) -> R {
        await gate.enter()
        defer { gate.leave() }
        try await onQueue { (db) throws(CentralError) in try Self.execute("BEGIN IMMEDIATE", db) }
        let executor = Transaction(database: self)
        defer { executor.end() }
        do {
            let result = try await body(executor)
            try await onQueue { (db) throws(CentralError) in try Self.execute("COMMIT", db) }
            return result
        } catch {
            _ = try? await onQueue { (db) throws(CentralError) in try Self.execute("ROLLBACK", db) }
            throw error
        }
    }

    /// The statements of one open transaction; the gate is already held. Used after its end, it traps.
    final class Transaction: SQLExecutor, Sendable {
        let database: SQLiteDatabase
        private let open = Atomic(true)
        var dialect: SQLDialect { .sqlite }

        init(database: SQLiteDatabase) { self.database = database }

        func end() { open.store(false, ordering: .sequentiallyConsistent) }

        func execute(_ sql: SQL) async throws(CentralError) {
            precondition(open.load(ordering: .sequentiallyConsistent), "a transaction's executor used after the transaction")
            try await database.onQueue { (db) throws(CentralError) in try SQLiteDatabase.execute(sql, db) }
        }

        func query(_ sql: SQL) async throws(CentralError) -> [SQLRow] {
            precondition(open.load(ordering: .sequentiallyConsistent), "a transaction's executor used after the transaction")
            let name = database.name
            return try await database.onQueue { (db) throws(CentralError) in try SQLiteDatabase.query(sql, db, name) }
        }
    }

    private func onQueue<R: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection) throws(CentralError) -> R
    ) async throws(CentralError) -> R {
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

    private static func execute(_ sql: SQL, _ db: SQLiteConnection) throws(CentralError) {
        let (text, binds) = sql.rendered(for: .sqlite)
        do throws(StoreError) {
            try db.prepare(text).run(binds.map(sqliteValue))
        } catch {
            throw classify(error, database: db.path)
        }
    }

    private static func query(_ sql: SQL, _ db: SQLiteConnection, _ name: String) throws(CentralError) -> [SQLRow] {
        let (text, binds) = sql.rendered(for: .sqlite)
        var rows: [SQLRow] = []
        do throws(StoreError) {
            try db.prepare(text).query(binds.map(sqliteValue)) { row in
                rows.append(SQLRow(values: (0..<row.columnCount).map { Self.value(row.value($0)) }, statement: text, database: name))
            }
            return rows
        } catch {
            throw classify(error, database: db.path)
        }
    }

    private static func sqliteValue(_ v: SQLValue) -> SQLiteStatement.Value {
        switch v {
        case .null: .null
        case .integer(let i): .integer(i)
        case .real(let d): .real(d)
        case .text(let t): .text(t)
        case .blob(let b): .blob(b)
        case .bool(let b): .integer(b ? 1 : 0)
        case .uuid(let u): .text(u.uuidString.lowercased())
        }
    }

    private static func value(_ v: SQLiteStatement.Value) -> SQLValue {
        switch v {
        case .null: .null
        case .integer(let i): .integer(i)
        case .real(let d): .real(d)
        case .text(let t): .text(t)
        case .blob(let b): .blob(b)
        }
    }

    static func classify(_ error: StoreError, database: String) -> CentralError {
        let failure = StorageFailure(database: database, code: .sqlite(error.code), statement: error.statement,
                                     message: error.statement.map { s in error.reason.replacingOccurrences(of: " in: \(s)", with: "") } ?? error.reason)
        return .sqlite(failure, code: error.code)
    }
}

/// An async FIFO lock: `enter` suspends (never blocks a thread) until every earlier holder has left.
final class AsyncGate: Sendable {
    private struct State {
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { s in
                if s.held {
                    s.waiting.append(continuation)
                    return false
                }
                s.held = true
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    func leave() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiting.isEmpty {
                s.held = false
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }
}
