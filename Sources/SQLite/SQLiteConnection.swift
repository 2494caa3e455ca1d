internal import CSQLite

/// What went wrong with an SQLite database, naming the file, SQLite's extended result code (0 when the error is
/// ours, not SQLite's) and the statement, if any.
public struct StoreError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    /// `sqlite3_extended_errcode` at the failure: `code & 0xFF` is the primary code (SQLITE_BUSY, SQLITE_FULL, ...).
    public var code: Int32
    public var statement: String?

    public init(path: String, reason: String, code: Int32 = 0, statement: String? = nil) {
        self.path = path
        self.reason = reason
        self.code = code
        self.statement = statement
    }

    public var primaryCode: Int32 { code & 0xFF }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    public var isFull: Bool { primaryCode == SQLITE_FULL }

    public var description: String { "\(path): \(reason)" }
}

/// One SQLite connection (WAL-friendly: waits up to 10 s for another writer's lock); owns its `sqlite3*` and closes it on deinit. Used by one thread at a time.
public final class SQLiteConnection {
    public let path: String
    private let handle: OpaquePointer

    /// - Parameter busyTimeout: how long to wait for another connection's lock before failing with SQLITE_BUSY.
    public init(path: String, readOnly: Bool = false, busyTimeout: Duration = .seconds(10)) throws(StoreError) {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            let code = db.map { sqlite3_extended_errcode($0) } ?? rc
            if let db { sqlite3_close_v2(db) }
            throw StoreError(path: path, reason: reason, code: code)
        }
        handle = db
        // Other processes (the technician's commands) write too: wait for their lock instead of failing.
        let (seconds, attoseconds) = busyTimeout.components
        sqlite3_busy_timeout(db, Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }

    deinit { sqlite3_close_v2(handle) }

    public func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &message) != SQLITE_OK {
            let reason = message.map { String(cString: $0) } ?? lastError
            sqlite3_free(message)
            throw error(reason, statement: sql)
        }
    }

    public func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw error("\(lastError) in: \(sql)", statement: sql)
        }
        return SQLiteStatement(statement, connection: self, sql: sql)
    }

    /// Runs `body` in an IMMEDIATE transaction (the write lock taken at once): committed when it returns,
    /// rolled back when it throws.
    public func transaction<R>(_ body: () throws(StoreError) -> R) throws(StoreError) -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Opens for durable use: WAL (readers never wait for the writer) and `synchronous=FULL` (a committed
    /// transaction survives a power cut).
    public static func durable(path: String, busyTimeout: Duration = .seconds(10)) throws(StoreError) -> SQLiteConnection {
        let db = try SQLiteConnection(path: path, busyTimeout: busyTimeout)
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("PRAGMA synchronous=FULL")
        return db
    }

    /// Brings the schema up to date: `scripts[i]` takes it from version i to i + 1 (`PRAGMA user_version`), each in
    /// its own transaction. A file newer than this program knows is refused, not touched.
    public func migrate(_ scripts: [String], program: String) throws(StoreError) {
        var version: Int64 = 0
        try prepare("PRAGMA user_version").query { row in version = row.integer(0) }
        if version > Int64(scripts.count) {
            throw StoreError(path: path, reason: "written by a newer \(program) (schema \(version), this one knows \(scripts.count))")
        }
        for (i, script) in scripts.enumerated() where Int64(i) >= version {
            try transaction { () throws(StoreError) in
                try execute(script)
                try execute("PRAGMA user_version = \(i + 1)")
            }
        }
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The linked SQLite's version number (3.40.1 is 3040001) and text.
    public static var libraryVersion: Int32 { sqlite3_libversion_number() }
    public static var libraryVersionText: String { String(cString: sqlite3_libversion()) }

    public var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    /// The last failure as an error, with SQLite's extended code.
    func error(_ reason: String? = nil, statement: String?) -> StoreError {
        StoreError(path: path, reason: reason ?? lastError, code: sqlite3_extended_errcode(handle), statement: statement)
    }
}

@available(*, unavailable)
extension SQLiteConnection: Sendable {}

/// A prepared statement; finalized on deinit.
public final class SQLiteStatement {
    private let statement: OpaquePointer
    private let connection: SQLiteConnection
    public let sql: String

    fileprivate init(_ statement: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.statement = statement
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(statement) }

    public enum Value: Sendable, Equatable {
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob([UInt8])
        case null
    }

    public func bind(_ values: [Value]) throws(StoreError) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .real(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let v): rc = kiosk_sqlite3_bind_text(statement, index, v, -1)
            case .blob(let v): rc = v.withUnsafeBytes { kiosk_sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count)) }
            case .null: rc = sqlite3_bind_null(statement, index)
            }
            if rc != SQLITE_OK { throw connection.error(statement: sql) }
        }
    }

    /// Runs a statement that returns no rows.
    public func run(_ values: [Value] = []) throws(StoreError) {
        try bind(values)
        let rc = sqlite3_step(statement)
        if rc != SQLITE_DONE && rc != SQLITE_ROW {
            let error = connection.error(statement: sql)
            sqlite3_reset(statement)
            throw error
        }
        sqlite3_reset(statement)
    }

    /// Runs a query and hands each row to `row`.
    public func query(_ values: [Value] = [], _ row: (SQLiteRow) throws(StoreError) -> Void) throws(StoreError) {
        try bind(values)
        defer { sqlite3_reset(statement) }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw connection.error(statement: sql) }
            try row(SQLiteRow(statement: statement))
        }
    }
}

@available(*, unavailable)
extension SQLiteStatement: Sendable {}

/// The current row of a query; valid only inside the `query` closure.
public struct SQLiteRow {
    fileprivate let statement: OpaquePointer

    public var columnCount: Int { Int(sqlite3_column_count(statement)) }

    /// A column as what SQLite stored (its storage class).
    public func value(_ column: Int) -> SQLiteStatement.Value {
        switch sqlite3_column_type(statement, Int32(column)) {
        case SQLITE_INTEGER: .integer(integer(column))
        case SQLITE_FLOAT: .real(real(column))
        case SQLITE_BLOB: .blob(blob(column) ?? [])
        case SQLITE_NULL: .null
        default: .text(text(column))
        }
    }

    public func isNull(_ column: Int) -> Bool { sqlite3_column_type(statement, Int32(column)) == SQLITE_NULL }
    public func integer(_ column: Int) -> Int64 { sqlite3_column_int64(statement, Int32(column)) }
    public func real(_ column: Int) -> Double { sqlite3_column_double(statement, Int32(column)) }
    public func text(_ column: Int) -> String {
        guard let p = sqlite3_column_text(statement, Int32(column)) else { return "" }
        return String(cString: p)
    }
    public func blob(_ column: Int) -> [UInt8]? {
        let count = Int(sqlite3_column_bytes(statement, Int32(column)))
        guard let p = sqlite3_column_blob(statement, Int32(column)) else { return isNull(column) ? nil : [] }
        return Array(UnsafeRawBufferPointer(start: p, count: count))
    }
}
