/// Runs statements: on the database in autocommit, or inside one open transaction.
public protocol SQLExecutor: Sendable {
    var dialect: SQLDialect { get }
    /// Runs a statement that returns no rows (writes that need to know what they changed say RETURNING).
    func execute(_ sql: SQL) async throws(CentralError)
    /// Runs a query and answers its rows (callers page large results).
    func query(_ sql: SQL) async throws(CentralError) -> [SQLRow]
}

/// What the central store needs of a database: statements, transactions and a connection to keep alive.
public protocol SQLDatabase: SQLExecutor {
    /// The path, or `postgres://user@host:port/db` (never the password).
    var name: String { get }
    /// Keeps the connections alive until the task is cancelled.
    func run() async
    /// Checks that the database answers, failing within seconds when it does not.
    func connect() async throws(CentralError)
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws. Transactions of one
    /// database never interleave their statements.
    func transaction<R: Sendable>(
        _ body: @Sendable (any SQLExecutor) async throws(CentralError) -> R
    ) async throws(CentralError) -> R
}
