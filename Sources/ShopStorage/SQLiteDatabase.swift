import CoreMetrics
import Foundation
import GRDB
import ServiceLifecycle

/// ``SQLDatabase`` on one SQLite file through GRDB: a `DatabasePool` in WAL
/// mode, busy waits instead of immediate errors, `synchronous = FULL`, and
/// GRDB's statement cache.
///
/// Write transactions run one at a time in the process (an ``AsyncLock``,
/// then `BEGIN IMMEDIATE` on GRDB's writer connection), each statement on
/// GRDB's own queue, never on a NIO event loop or a blocked cooperative
/// thread. Reads run on the pool's readers, one snapshot per statement.
public struct SQLiteDatabase: SQLDatabase {
    public var dialect: SQLDialect { .sqlite }
    public var services: [any Service] { [] }

    private let pool: DatabasePool
    private let writeLock = AsyncLock()

    /// Opens (creating when missing, with its folder) the file at `path`
    /// and applies `migrations`.
    ///
    /// - Parameter statementTime: when given, every statement's time.
    public init(path: String, migrations: [SQLMigration], statementTime: CoreMetrics.Timer? = nil) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        // The transaction spans several writer accesses (one per awaited
        // statement); the write lock keeps every other writer out meanwhile.
        configuration.allowsUnsafeTransactions = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // WAL with NORMAL sync loses nothing on a process crash
            // (kill -9); FULL also survives power loss, at some latency.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if let statementTime {
                db.trace(options: .profile) { event in
                    if case .profile(_, let duration) = event {
                        statementTime.recordNanoseconds(Int64(duration * 1_000_000_000))
                    }
                }
            }
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.name) { db in
                for statement in migration.statements(.sqlite) {
                    try db.execute(sql: statement)
                }
            }
        }
        do {
            try migrator.migrate(pool)
        } catch {
            throw Self.storageError(error)
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLTransaction) async throws -> T) async throws -> T {
        try await Self.mapping { try await body(Transaction(pool: pool, writes: false)) }
    }

    @discardableResult

    public func write<T: Sendable>(_ body: @Sendable (any SQLTransaction) async throws -> T) async throws -> T {
        try await Self.mapping {
            try await writeLock.withLock {
                try await pool.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
                let result: T
                do {
                    result = try await body(Transaction(pool: pool, writes: true))
                    try await pool.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
                } catch {
                    Self.rollBack(pool)
                    throw error
                }
                return result
            }
        }
    }

    public func notifications(channel: String) -> AsyncStream<String?>? { nil }

    /// Synchronously, so a cancelled task still rolls back before the
    /// write lock is released.
    private static func rollBack(_ pool: DatabasePool) {
        try? pool.writeWithoutTransaction { db in
            if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
        }
    }

    private struct Transaction: SQLTransaction {
        let pool: DatabasePool
        let writes: Bool
        var dialect: SQLDialect { .sqlite }

        @discardableResult

        func execute(_ sql: String, _ arguments: [any SQLBindable]) async throws -> Int {
            let arguments = Self.arguments(arguments)
            let run: @Sendable (Database) throws -> Int = { db in
                let statement = try db.cachedStatement(sql: sql)
                try statement.execute(arguments: arguments)
                return db.changesCount
            }
            return writes ? try await pool.writeWithoutTransaction(run) : try await pool.read(run)
        }

        func query(_ sql: String, _ arguments: [any SQLBindable]) async throws -> [SQLRow] {
            let arguments = Self.arguments(arguments)
            let run: @Sendable (Database) throws -> [SQLRow] = { db in
                let statement = try db.cachedStatement(sql: sql)
                return try Row.fetchAll(statement, arguments: arguments).map(Self.row)
            }
            return writes ? try await pool.writeWithoutTransaction(run) : try await pool.read(run)
        }

        func notify(channel: String, payload: String) async throws {}

        private static func arguments(_ values: [any SQLBindable]) -> StatementArguments {
            StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
                switch value.sqlValue {
                case .null: DatabaseValue.null
                case .integer(let integer): integer.databaseValue
                case .real(let real): real.databaseValue
                case .text(let text): text.databaseValue
                case .bool(let bool): (bool ? Int64(1) : 0).databaseValue
                }
            })
        }

        private static func row(_ row: Row) -> SQLRow {
            var values: [String: SQLValue] = [:]
            for (column, value) in row {
                switch value.storage {
                case .null: values[column] = .null
                case .int64(let integer): values[column] = .integer(integer)
                case .double(let real): values[column] = .real(real)
                case .string(let text): values[column] = .text(text)
                case .blob(let data): values[column] = .text(String(decoding: data, as: UTF8.self))
                }
            }
            return SQLRow(values)
        }
    }

    /// GRDB's errors as ``StorageError``s; anything else (an RPC error a
    /// store threw inside the transaction) unchanged.
    private static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw storageError(error)
        }
    }

    private static func storageError(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            // "UNIQUE constraint failed: users.email"
            return StorageError(.uniqueViolation, "a unique constraint refused the write", constraint: error.message)
        }
        if error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            return StorageError(.unavailable, "the database is busy; try again")
        }
        return StorageError(.other, "database error: \(error.message ?? "\(error.resultCode)")")
    }
}
