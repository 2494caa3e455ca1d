/// What the database said, as a driver saw it: which database, its own error code, the statement (never the
/// binds: they hold token and password hashes) and its message.
public struct StorageFailure: Sendable, Equatable, CustomStringConvertible {
    public enum NativeCode: Sendable, Equatable, CustomStringConvertible {
        /// SQLite's extended result code.
        case sqlite(Int32)
        /// PostgreSQL's SQLSTATE.
        case postgres(sqlState: String)
        /// Raised by the client side: a connection that failed or closed, a timeout, a row of the wrong type.
        case client(String)

        public var description: String {
            switch self {
            case .sqlite(let c): "SQLite code \(c)"
            case .postgres(let s): "SQLSTATE \(s)"
            case .client(let c): c
            }
        }
    }

    public var database: String
    public var code: NativeCode
    public var statement: String?
    public var message: String

    public init(database: String, code: NativeCode, statement: String?, message: String) {
        self.database = database
        self.code = code
        self.statement = statement
        self.message = message
    }

    public var description: String {
        "\(database): \(message) (\(code))" + (statement.map { " in: \($0.split(whereSeparator: \.isNewline).joined(separator: " "))" } ?? "")
    }
}

/// Why the central store could not do what it was asked. The storage cases say what kind of failure it was, so
/// the HTTP layer can tell an outage (retry later) from a full disk or a bug; the last four are domain outcomes.
public enum CentralError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Locked by another writer, a serialization failure or a deadlock: retrying soon should work.
    case busy(StorageFailure)
    /// The disk or memory is full.
    case full(StorageFailure)
    /// The database file or a page is damaged.
    case corrupt(StorageFailure)
    /// A constraint refused the write.
    case conflict(StorageFailure)
    /// The database cannot be reached, opened or written (permissions, network, shutdown).
    case unavailable(StorageFailure)
    /// Anything else: a statement the database refused (a bug) or a value of an unexpected type.
    case failed(StorageFailure)
    case newerSchema(database: String, version: Int, known: Int)
    case nameTaken(String)
    case notFound(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .busy(let f), .full(let f), .corrupt(let f), .conflict(let f), .unavailable(let f), .failed(let f):
            "\(f)"
        case .newerSchema(let database, let version, let known):
            "\(database) was written by a newer kiosk-central (schema \(version), this one knows \(known))"
        case .nameTaken(let m), .notFound(let m), .invalid(let m): m
        }
    }

    /// The failure of a storage case.
    public var failure: StorageFailure? {
        switch self {
        case .busy(let f), .full(let f), .corrupt(let f), .conflict(let f), .unavailable(let f), .failed(let f): f
        case .newerSchema, .nameTaken, .notFound, .invalid: nil
        }
    }

    /// The kinds of storage failure, and the constructor of each.
    enum Kind {
        case busy, full, corrupt, conflict, unavailable, failed

        func callAsFunction(_ f: StorageFailure) -> CentralError {
            switch self {
            case .busy: .busy(f)
            case .full: .full(f)
            case .corrupt: .corrupt(f)
            case .conflict: .conflict(f)
            case .unavailable: .unavailable(f)
            case .failed: .failed(f)
            }
        }
    }

    /// SQLite's primary result codes (`code & 0xFF`) by kind; anything else is `.failed`.
    static let sqliteKinds: [Int32: Kind] = [
        5: .busy, 6: .busy,  // BUSY, LOCKED
        13: .full, 7: .full,  // FULL, NOMEM
        11: .corrupt, 26: .corrupt,  // CORRUPT, NOTADB
        19: .conflict,  // CONSTRAINT
        14: .unavailable, 10: .unavailable, 8: .unavailable, 3: .unavailable,  // CANTOPEN, IOERR, READONLY, PERM
    ]

    /// PostgreSQL's SQLSTATEs by kind, whole codes first, then classes (the first two characters).
    static let postgresKinds: [String: Kind] = [
        "40001": .busy, "40P01": .busy, "55P03": .busy, "57014": .busy, "53300": .busy,
        "53100": .full, "53200": .full,
        "XX001": .corrupt, "XX002": .corrupt,
        "57P01": .unavailable, "57P02": .unavailable, "57P03": .unavailable, "3D000": .unavailable,
        "23": .conflict, "08": .unavailable, "28": .unavailable, "53": .unavailable,
    ]

    static func sqlite(_ f: StorageFailure, code: Int32) -> CentralError {
        (sqliteKinds[code & 0xFF] ?? .failed)(f)
    }

    static func postgres(_ f: StorageFailure, sqlState: String) -> CentralError {
        (postgresKinds[sqlState] ?? postgresKinds[String(sqlState.prefix(2))] ?? .failed)(f)
    }
}
