import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The central store's PostgreSQL database, for a city's fleet: a connection pool (postgres-nio). Every
/// statement is sent with its binds (`$1…$n`), never with values spliced in.
public final class PostgresDatabase: SQLDatabase {
    let client: PostgresClient
    let logger: Logger
    public let name: String
    public var dialect: SQLDialect { .postgres }

    /// - Parameter url: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`; TLS is
    ///   off for loopback unless asked for, and preferred elsewhere.
    public init(url: String, logger: Logger = PostgresDatabase.quietLogger) throws(CentralError) {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
            let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty
        else { throw .invalid("--database \(url): expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE") }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw .invalid("--database \(url): the database name is missing") }
        let sslmode = parts.queryItems?.first { $0.name == "sslmode" }?.value
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        let tls: PostgresClient.Configuration.TLS
        switch sslmode ?? (loopback ? "disable" : "prefer") {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        case let other: throw .invalid("--database: sslmode \(other) is not supported (disable, prefer, require)")
        }
        let configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user, password: parts.password, database: database, tls: tls)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        name = "postgres://\(user)@\(host):\(parts.port ?? 5432)/\(database)"
    }

    /// postgres-nio logs every failed connection attempt at info level; the store reports failures itself.
    public static var quietLogger: Logger {
        var logger = Logger(label: "kiosk-central.postgres")
        logger.logLevel = .error
        return logger
    }

    public func run() async { await client.run() }

    public func connect() async throws(CentralError) {
        // A server that cannot be reached should say so in seconds, not after the pool's long retry schedule.
        let answered = await withTaskGroup(of: Result<Bool, CentralError>.self) { group in
            group.addTask {
                do throws(CentralError) {
                    _ = try await self.query("SELECT 1")
                    return .success(true)
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(15))
                return .success(false)
            }
            let first = await group.next() ?? .success(false)
            group.cancelAll()
            return first
        }
        switch answered {
        case .success(true): return
        case .success(false):
            throw .unavailable(StorageFailure(database: name, code: .client("timeout"), statement: nil,
                                              message: "cannot connect or log in within 15 s"))
        case .failure(let error): throw error
        }
    }

    public func execute(_ sql: SQL) async throws(CentralError) {
        try await Self.run(sql, database: name) { query in
            for try await _ in try await client.query(query, logger: logger) {}
            return 0
        }
    }

    public func query(_ sql: SQL) async throws(CentralError) -> [SQLRow] {
        try await Self.run(sql, database: name) { query in
            try await Self.rows(try await client.query(query, logger: logger), statement: query.sql, database: name)
        }
    }

    public func transaction<R: Sendable>(
        _ body: @Sendable (any SQLExecutor) async throws(CentralError) -> R
    ) async throws(CentralError) -> R {
        // On one leased connection, with the body's own typed errors (postgres-nio's withTransaction wraps them).
        let outcome: Result<R, CentralError>
        do {
            outcome = try await client.withConnection { connection -> Result<R, CentralError> in
                let executor = Transaction(connection: connection, logger: logger, database: name)
                do throws(CentralError) {
                    try await executor.execute("BEGIN")
                    let result = try await body(executor)
                    try await executor.execute("COMMIT")
                    executor.end()
                    return .success(result)
                } catch {
                    executor.end()
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    return .failure(error)
                }
            }
        } catch {
            throw Self.classify(error, statement: nil, database: name)
        }
        return try outcome.get()
    }

    /// The statements of one transaction, on its connection. Used after its end, it traps.
    final class Transaction: SQLExecutor, Sendable {
        let connection: PostgresConnection
        let logger: Logger
        let database: String
        private let open = Atomic(true)
        var dialect: SQLDialect { .postgres }

        init(connection: PostgresConnection, logger: Logger, database: String) {
            self.connection = connection
            self.logger = logger
            self.database = database
        }

        func end() { open.store(false, ordering: .sequentiallyConsistent) }

        func execute(_ sql: SQL) async throws(CentralError) {
            precondition(open.load(ordering: .sequentiallyConsistent), "a transaction's executor used after the transaction")
            try await PostgresDatabase.run(sql, database: database) { query in
                for try await _ in try await connection.query(query, logger: logger) {}
            }
        }

        func query(_ sql: SQL) async throws(CentralError) -> [SQLRow] {
            precondition(open.load(ordering: .sequentiallyConsistent), "a transaction's executor used after the transaction")
            return try await PostgresDatabase.run(sql, database: database) { query in
                try await PostgresDatabase.rows(try await connection.query(query, logger: logger), statement: query.sql, database: database)
            }
        }
    }

    @discardableResult
    static func run<R>(_ sql: SQL, database: String, _ body: (PostgresQuery) async throws -> R) async throws(CentralError) -> R {
        let (text, values) = sql.rendered(for: .postgres)
        var binds = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .null: binds.appendNull()
            case .integer(let i): binds.append(i)
            case .real(let d): binds.append(d)
            case .text(let t): binds.append(t)
            case .blob(let b): binds.append(ByteBuffer(bytes: b))
            case .bool(let b): binds.append(b)
            case .uuid(let u): binds.append(u)
            }
        }
        do {
            return try await body(PostgresQuery(unsafeSQL: text, binds: binds))
        } catch let error as CentralError {
            throw error
        } catch {
            throw classify(error, statement: text, database: database)
        }
    }

    static func rows(_ sequence: PostgresRowSequence, statement: String, database: String) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for try await row in sequence {
            var values: [SQLValue] = []
            for cell in row {
                guard cell.bytes != nil else {
                    values.append(.null)
                    continue
                }
                switch cell.dataType {
                case .int2, .int4, .int8: values.append(.integer(try cell.decode(Int64.self)))
                case .float4, .float8: values.append(.real(try cell.decode(Double.self)))
                case .text, .varchar, .name, .bpchar: values.append(.text(try cell.decode(String.self)))
                case .bytea: values.append(.blob(Array(buffer: try cell.decode(ByteBuffer.self))))
                case .bool: values.append(.bool(try cell.decode(Bool.self)))
                case .uuid: values.append(.uuid(try cell.decode(UUID.self)))
                default:
                    throw CentralError.failed(StorageFailure(
                        database: database, code: .client("type"), statement: statement,
                        message: "column \(cell.columnName) has type \(cell.dataType), which the store does not read (CAST it)"))
                }
            }
            rows.append(SQLRow(values: values, statement: statement, database: database))
        }
        return rows
    }

    static func classify(_ error: any Error, statement: String?, database: String) -> CentralError {
        if let error = error as? CentralError { return error }
        guard let psql = error as? PSQLError else {
            return .unavailable(StorageFailure(database: database, code: .client("\(type(of: error))"), statement: statement,
                                               message: "\(error)"))
        }
        if let info = psql.serverInfo, let state = info[.sqlState] {
            let failure = StorageFailure(database: database, code: .postgres(sqlState: state), statement: statement,
                                         message: info[.message] ?? "\(psql.code)")
            return .postgres(failure, sqlState: state)
        }
        // No answer from the server: the connection failed, closed or was never made.
        return .unavailable(StorageFailure(database: database, code: .client("\(psql.code)"), statement: statement,
                                           message: "\(psql.code)" + (psql.underlying.map { ": \($0)" } ?? "")))
    }
}
