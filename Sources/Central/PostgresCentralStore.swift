import Foundation
import KioskCore
import Logging
import PostgresNIO
import SyncWire

/// The central store on PostgreSQL, for a city's fleet: a connection pool (postgres-nio), one transaction per
/// batch, `ON CONFLICT DO NOTHING` for idempotency, versioned migrations under an advisory lock.
public final class PostgresCentralStore: CentralStore {
    let client: PostgresClient
    let logger: Logger
    public let description: String
    /// Days and hours of the statistics are local to this calendar's time zone.
    public let calendar: Calendar

    static let migrations: [String] = [
        """
        CREATE TABLE devices (
            name TEXT PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            created_at_ms BIGINT NOT NULL
        );
        CREATE TABLE records (
            id UUID PRIMARY KEY,
            kiosk TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            captured_at_ms BIGINT NOT NULL,
            received_at_ms BIGINT NOT NULL,
            label TEXT NOT NULL,
            category TEXT NOT NULL,
            confidence DOUBLE PRECISION NOT NULL,
            top TEXT NOT NULL,
            model_version TEXT NOT NULL,
            language TEXT NOT NULL,
            correction TEXT,
            thumbnail BYTEA
        );
        CREATE INDEX records_kiosk ON records (kiosk, sequence);
        CREATE INDEX records_captured ON records (captured_at_ms);
        """,
        // The dashboard: rollups kept with the records (see Rollup), kiosks' latest state, operators.
        """
        CREATE TABLE stats_daily (
            day TEXT NOT NULL, kiosk TEXT NOT NULL, label TEXT NOT NULL, category TEXT NOT NULL,
            correction TEXT NOT NULL, uncertain BOOLEAN NOT NULL, n BIGINT NOT NULL,
            PRIMARY KEY (day, kiosk, label, category, correction, uncertain)
        );
        CREATE INDEX stats_daily_kiosk ON stats_daily (kiosk, day);
        CREATE TABLE stats_hourly (
            day TEXT NOT NULL, hour INT NOT NULL, kiosk TEXT NOT NULL, n BIGINT NOT NULL,
            PRIMARY KEY (day, kiosk, hour)
        );
        CREATE TABLE kiosk_state (
            kiosk TEXT PRIMARY KEY, last_batch_ms BIGINT, newest_scan_ms BIGINT, records BIGINT NOT NULL DEFAULT 0,
            model_version TEXT
        );
        CREATE TABLE operators (
            name TEXT PRIMARY KEY, salt BYTEA NOT NULL, hash BYTEA NOT NULL, rounds INT NOT NULL, created_at_ms BIGINT NOT NULL
        );
        CREATE TABLE server_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
        "ALTER TABLE records ADD COLUMN asked BOOLEAN;",
    ]

    /// - Parameter url: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require]`; TLS is off
    ///   for loopback unless asked for, and preferred elsewhere.
    public init(url: String, timeZone: TimeZone = .current, logger: Logger = PostgresCentralStore.quietLogger) throws(CentralError) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
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
        description = "postgres://\(user)@\(host):\(parts.port ?? 5432)/\(database)"
    }

    /// postgres-nio logs every failed connection attempt at info level; the store reports failures itself.
    public static var quietLogger: Logger {
        var logger = Logger(label: "kiosk-central.postgres")
        logger.logLevel = .error
        return logger
    }

    public func run() async { await client.run() }

    func storage<R>(_ what: String, _ body: () async throws -> R) async throws(CentralError) -> R {
        do {
            return try await body()
        } catch let error as CentralError {
            throw error
        } catch let error as PSQLError {
            throw .storage("\(description): \(what): \(error.serverInfo?[.message] ?? String(describing: error.code))")
        } catch {
            throw .storage("\(description): \(what): \(error)")
        }
    }

    public func prepare() async throws(CentralError) {
        // A server that cannot be reached should say so in seconds, not after the pool's long retry schedule.
        let reachable = await withTaskGroup(of: Bool.self) { group in
            group.addTask { [client, logger] in
                (try? await client.query("SELECT 1", logger: logger)) != nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(15))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !reachable { throw .storage("\(description): cannot connect or log in within 15 s") }
        try await storage("migrating") {
            try await client.withTransaction(logger: logger) { connection in
                // One migrator at a time, even with several servers starting together.
                try await connection.query("SELECT pg_advisory_xact_lock(7345123)", logger: logger)
                try await connection.query("CREATE TABLE IF NOT EXISTS kiosk_schema (version INT NOT NULL)", logger: logger)
                var version = 0
                for try await (v) in try await connection.query("SELECT version FROM kiosk_schema", logger: logger).decode(Int.self) {
                    version = v
                }
                if version > Self.migrations.count {
                    throw CentralError.storage("\(description) was written by a newer kiosk-central (schema \(version))")
                }
                for (i, script) in Self.migrations.enumerated() where i >= version {
                    for statement in script.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                        try await connection.query(PostgresQuery(unsafeSQL: String(statement)), logger: logger)
                    }
                }
                if version < Self.migrations.count {
                    try await connection.query("DELETE FROM kiosk_schema", logger: logger)
                    try await connection.query("INSERT INTO kiosk_schema (version) VALUES (\(Self.migrations.count))", logger: logger)
                }
                var zone: String?
                for try await z in try await connection.query(
                    "SELECT value FROM server_settings WHERE key = 'rollup_time_zone'", logger: logger).decode(String.self) { zone = z }
                if zone != calendar.timeZone.identifier { try await rebuildRollups(connection) }
            }
        }
    }

    public func addDevice(name: String, tokenHash: String, atMilliseconds now: Int64) async throws(CentralError) {
        let inserted = try await storage("adding \(name)") { () async throws -> Bool in
            let rows = try await client.query("""
                INSERT INTO devices (name, token_sha256, created_at_ms) VALUES (\(name), \(tokenHash), \(now))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger)
            var any = false
            for try await _ in rows { any = true }
            return any
        }
        if !inserted { throw .conflict("a kiosk named \(name) is already registered") }
    }

    public func kiosk(forTokenHash hash: String) async throws(CentralError) -> String? {
        try await storage("looking up a token") { () async throws -> String? in
            var name: String?
            for try await n in try await client.query("SELECT name FROM devices WHERE token_sha256 = \(hash)", logger: logger)
                .decode(String.self) { name = n }
            return name
        }
    }

    public func tokenHash(forKiosk name: String) async throws(CentralError) -> String? {
        try await storage("looking up \(name)") { () async throws -> String? in
            var hash: String?
            for try await h in try await client.query("SELECT token_sha256 FROM devices WHERE name = \(name)", logger: logger)
                .decode(String.self) { hash = h }
            return hash
        }
    }

    public func ingest(_ records: [ScanRecord], receivedAtMilliseconds now: Int64) async throws(CentralError) -> [BatchResponse.Result] {
        let encoder = WireJSON.encoder()
        return try await storage("storing a batch") { () async throws -> [BatchResponse.Result] in
            try await client.withTransaction(logger: logger) { connection in
                var results: [BatchResponse.Result] = []
                results.reserveCapacity(records.count)
                var rollup = Rollup()
                var stored: [ScanRecord] = []
                for r in records {
                    let top = String(decoding: try encoder.encode(r.top), as: UTF8.self)
                    let rows = try await connection.query("""
                        INSERT INTO records (id, kiosk, sequence, captured_at_ms, received_at_ms, label, category,
                            confidence, top, model_version, language, correction, thumbnail, asked)
                        VALUES (\(r.id), \(r.kiosk), \(r.sequence), \(r.capturedAtMilliseconds), \(now), \(r.label),
                            \(r.category.rawValue), \(r.confidence), \(top), \(r.modelVersion), \(r.language.rawValue),
                            \(r.correction), \(r.thumbnail.map { ByteBuffer(bytes: $0) }), \(r.asked))
                        ON CONFLICT (id) DO NOTHING RETURNING id
                        """, logger: logger)
                    var inserted = false
                    for try await _ in rows { inserted = true }
                    results.append(.init(id: r.id, status: inserted ? .accepted : .duplicate))
                    if inserted {
                        rollup.add(r, calendar: calendar)
                        stored.append(r)
                    }
                }
                try await apply(rollup, connection)
                try await updateKioskState(connection, kiosk: records.first?.kiosk, stored: stored, now: now)
                return results
            }
        }
    }

    public func count(kiosk: String?) async throws(CentralError) -> Int {
        try await storage("counting") { () async throws -> Int in
            var n = 0
            let rows = if let kiosk {
                try await client.query("SELECT COUNT(*) FROM records WHERE kiosk = \(kiosk)", logger: logger)
            } else {
                try await client.query("SELECT COUNT(*) FROM records", logger: logger)
            }
            for try await c in rows.decode(Int.self) { n = c }
            return n
        }
    }
}
