import ServiceLifecycle

/// A service's database, whichever backend holds it: transactions of
/// statements with bound parameters, rows read back by column name.
///
/// Stores are written once against this protocol; ``SQLDialect`` covers the
/// few differences. Implementations: ``SQLiteDatabase`` (GRDB, one process
/// per file) and ``PostgresDatabase`` (postgres-nio, any number of
/// replicas on one database, each service in its own schema).
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` in a read-only transaction.
    ///
    /// On SQLite each statement reads its own snapshot; on PostgreSQL the
    /// transaction is READ COMMITTED. Stores do not rely on a snapshot
    /// across the statements of a read.
    func read<T: Sendable>(_ body: @Sendable (any SQLTransaction) async throws -> T) async throws -> T

    /// Runs `body` in a write transaction, committed before this returns;
    /// anything `body` throws rolls everything back.
    ///
    /// On SQLite write transactions run one at a time (`BEGIN IMMEDIATE`);
    /// on PostgreSQL concurrently (READ COMMITTED), so a store that reads
    /// and then writes the same rows locks them (``SQLDialect/forUpdate``)
    /// or writes one conditional statement.
    @discardableResult
    func write<T: Sendable>(_ body: @Sendable (any SQLTransaction) async throws -> T) async throws -> T

    /// The long-lived work the database needs while the service runs (the
    /// PostgreSQL connection pool): run in the service's group, stopped on
    /// shutdown.
    var services: [any Service] { get }

    /// Notifications on `channel` from every process using this database
    /// (PostgreSQL `LISTEN`), each payload in order, until the task is
    /// cancelled; reconnects after a lost connection, yielding `nil` to say
    /// notifications may have been missed meanwhile. `nil` on SQLite,
    /// where one process owns the file and tells itself.
    func notifications(channel: String) -> AsyncStream<String?>?
}

/// The statements of one transaction.
public protocol SQLTransaction: Sendable {
    var dialect: SQLDialect { get }

    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLBindable]) async throws -> Int

    /// Runs a statement and returns its rows.
    func query(_ sql: String, _ arguments: [any SQLBindable]) async throws -> [SQLRow]

    /// Tells every listener on `channel` (``SQLDatabase/notifications(channel:)``)
    /// once this transaction commits; nothing on SQLite.
    func notify(channel: String, payload: String) async throws
}

extension SQLTransaction {
    @discardableResult
    public func execute(_ sql: String) async throws -> Int {
        try await execute(sql, [])
    }

    /// The first row, if any.
    public func queryOne(_ sql: String, _ arguments: [any SQLBindable] = []) async throws -> SQLRow? {
        try await query(sql, arguments).first
    }

    /// `IN (?, ?, ...)` for `count` values (at least one).
    public static func placeholders(count: Int) -> String {
        Array(repeating: "?", count: max(count, 1)).joined(separator: ", ")
    }
}
