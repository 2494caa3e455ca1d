import Central
import Foundation
import Testing

/// The central store's two backends. PostgreSQL runs when `KIOSK_TEST_POSTGRES` names a role that may create
/// databases (scripts/setup-postgres; scripts/test sets it).
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var postgresURL: String? { ProcessInfo.processInfo.environment["KIOSK_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 } }
    static var available: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }
}

/// A new, empty database of one backend: a temporary SQLite file, or a PostgreSQL database of its own.
struct FreshDatabase: Sendable {
    let backend: Backend
    /// The SQLite file's path, or the database's URL.
    let location: String
    let name: String

    static func make(_ backend: Backend) async throws -> FreshDatabase {
        let name = "central_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        switch backend {
        case .sqlite:
            return FreshDatabase(backend: backend, location: NSTemporaryDirectory() + name + ".sqlite", name: name)
        case .postgres:
            let base = try #require(Backend.postgresURL)
            try await Self.admin(base) { db in try await db.execute(SQL(stringLiteral: "CREATE DATABASE \(name)")) }
            var parts = try #require(URLComponents(string: base))
            parts.path = "/" + name
            return FreshDatabase(backend: backend, location: try #require(parts.string), name: name)
        }
    }

    /// A database driver on it (not yet running).
    func driver() throws -> any SQLDatabase {
        switch backend {
        case .sqlite: try SQLiteDatabase(path: location)
        case .postgres: try PostgresDatabase(url: location)
        }
    }

    /// A store on it for a time zone (not yet running or prepared: see `CentralStore.whileRunning`).
    func store(_ zone: String = "UTC") throws -> CentralStore {
        CentralStore(database: try driver(), timeZone: TimeZone(identifier: zone)!)
    }

    func remove() async {
        switch backend {
        case .sqlite:
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: location + suffix) }
        case .postgres:
            guard let base = Backend.postgresURL else { return }
            try? await Self.admin(base) { db in try await db.execute(SQL(stringLiteral: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")) }
        }
    }

    /// Runs `body` on a running driver, then stops it.
    static func running<R: Sendable>(_ db: any SQLDatabase, _ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                await db.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(db)
        }
    }

    private static func admin(_ url: String, _ body: @Sendable (any SQLDatabase) async throws -> Void) async throws {
        try await running(try PostgresDatabase(url: url), body)
    }
}
