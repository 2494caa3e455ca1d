import Foundation

/// A value bound to a statement or read from a row. Each driver maps it to its own types: SQLite stores `.bool`
/// as 0/1 and `.uuid` as lower-case text; PostgreSQL has BOOLEAN and UUID.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case bool(Bool)
    case uuid(UUID)
}

/// The two SQL dialects the central store speaks. Everything that differs between them is one `switch` here;
/// the queries themselves are written once, in the subset both accept.
public enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// A column type or table option, spelled for this dialect.
    func spell(_ term: SQL.Term) -> String {
        switch (self, term) {
        case (_, .text): "TEXT"
        case (.sqlite, .int32), (.sqlite, .int64), (.sqlite, .bool): "INTEGER"
        case (.postgres, .int32): "INT"
        case (.postgres, .int64): "BIGINT"
        case (.sqlite, .double): "REAL"
        case (.postgres, .double): "DOUBLE PRECISION"
        case (.sqlite, .bytes): "BLOB"
        case (.postgres, .bytes): "BYTEA"
        case (.postgres, .bool): "BOOLEAN"
        case (.sqlite, .uuid): "TEXT"
        case (.postgres, .uuid): "UUID"
        case (.sqlite, .withoutRowID): " WITHOUT ROWID"
        case (.postgres, .withoutRowID): ""
        }
    }

    /// The n-th (from 1) bind's placeholder.
    func placeholder(_ n: Int) -> String {
        switch self {
        case .sqlite: "?"
        case .postgres: "$\(n)"
        }
    }
}

/// A statement with its binds kept apart from its text: written once with interpolation
/// (`"SELECT name FROM devices WHERE token_sha256 = \(bind: .text(hash))"`), rendered per dialect with generated
/// placeholders, so no value is ever spliced into SQL and no placeholder is miscounted.
public struct SQL: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// A column type or table option that each dialect spells its own way.
    public enum Term: Sendable, Equatable {
        case text, int32, int64, double, bytes, bool, uuid
        case withoutRowID
    }

    enum Piece: Sendable, Equatable {
        case text(String)
        case bind(SQLValue)
        case term(Term)
    }

    var pieces: [Piece]

    public init(stringLiteral value: String) { pieces = [.text(value)] }

    public init(stringInterpolation: Interpolation) { pieces = stringInterpolation.pieces }

    public struct Interpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) { pieces.append(.text(literal)) }
        public mutating func appendInterpolation(bind value: SQLValue) { pieces.append(.bind(value)) }
        public mutating func appendInterpolation(_ term: Term) { pieces.append(.term(term)) }
        public mutating func appendInterpolation(_ sql: SQL) { pieces += sql.pieces }
        /// SQL text from a constant of this program (a number or a column list), never from input.
        public mutating func appendInterpolation(literal: some BinaryInteger) { pieces.append(.text(String(literal))) }
    }

    public mutating func append(_ other: SQL) { pieces += other.pieces }

    public static func + (a: SQL, b: SQL) -> SQL {
        var s = a
        s.append(b)
        return s
    }

    /// `(?, ?), (?, ?)`: the rows of a multi-row VALUES list.
    public static func rows(_ rows: some Collection<[SQLValue]>) -> SQL {
        var s = SQL(pieces: [])
        for (i, row) in rows.enumerated() {
            s.pieces.append(.text(i == 0 ? "(" : ", ("))
            for (j, value) in row.enumerated() {
                if j > 0 { s.pieces.append(.text(", ")) }
                s.pieces.append(.bind(value))
            }
            s.pieces.append(.text(")"))
        }
        return s
    }

    /// `?, ?, ?`: the values of an IN list.
    public static func list(_ values: some Collection<SQLValue>) -> SQL {
        var s = SQL(pieces: [])
        for (i, value) in values.enumerated() {
            if i > 0 { s.pieces.append(.text(", ")) }
            s.pieces.append(.bind(value))
        }
        return s
    }

    init(pieces: [Piece]) { self.pieces = pieces }

    public var bindCount: Int { pieces.reduce(0) { if case .bind = $1 { $0 + 1 } else { $0 } } }

    /// The text with this dialect's placeholders and types, and the binds in order.
    public func rendered(for dialect: SQLDialect) -> (text: String, binds: [SQLValue]) {
        var text = "", binds: [SQLValue] = []
        for piece in pieces {
            switch piece {
            case .text(let t): text += t
            case .term(let t): text += dialect.spell(t)
            case .bind(let v):
                binds.append(v)
                text += dialect.placeholder(binds.count)
            }
        }
        return (text, binds)
    }

    /// The statement as SQLite reads it, without the values: what errors quote (binds hold token and password hashes).
    public var description: String { rendered(for: .sqlite).text }
}

/// One result row, read by position. A value of the wrong type is an error naming the column and the statement,
/// so a forgotten CAST (PostgreSQL's SUM is numeric) fails loudly instead of reading as zero.
public struct SQLRow: Sendable {
    public let values: [SQLValue]
    let statement: String
    let database: String

    public init(values: [SQLValue], statement: String, database: String) {
        self.values = values
        self.statement = statement
        self.database = database
    }

    public func isNull(_ i: Int) -> Bool { values.indices.contains(i) && values[i] == .null }

    public func int(_ i: Int) throws(CentralError) -> Int64 {
        switch try value(i) {
        case .integer(let v): return v
        default: throw mismatch(i, "an integer")
        }
    }

    public func double(_ i: Int) throws(CentralError) -> Double {
        switch try value(i) {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: throw mismatch(i, "a number")
        }
    }

    public func text(_ i: Int) throws(CentralError) -> String {
        switch try value(i) {
        case .text(let v): return v
        case .uuid(let v): return v.uuidString.lowercased()
        default: throw mismatch(i, "text")
        }
    }

    public func bytes(_ i: Int) throws(CentralError) -> [UInt8] {
        switch try value(i) {
        case .blob(let v): return v
        default: throw mismatch(i, "bytes")
        }
    }

    public func bool(_ i: Int) throws(CentralError) -> Bool {
        switch try value(i) {
        case .bool(let v): return v
        case .integer(let v) where v == 0 || v == 1: return v == 1
        default: throw mismatch(i, "a boolean")
        }
    }

    public func optionalInt(_ i: Int) throws(CentralError) -> Int64? { isNull(i) ? nil : try int(i) }
    public func optionalText(_ i: Int) throws(CentralError) -> String? { isNull(i) ? nil : try text(i) }
    public func optionalBool(_ i: Int) throws(CentralError) -> Bool? { isNull(i) ? nil : try bool(i) }

    private func value(_ i: Int) throws(CentralError) -> SQLValue {
        guard values.indices.contains(i) else {
            throw .failed(StorageFailure(database: database, code: .client("column"), statement: statement,
                                         message: "no column \(i) (the row has \(values.count))"))
        }
        return values[i]
    }

    private func mismatch(_ i: Int, _ wanted: String) -> CentralError {
        .failed(StorageFailure(database: database, code: .client("type"), statement: statement,
                               message: "column \(i) is \(values[i]), not \(wanted)"))
    }
}
