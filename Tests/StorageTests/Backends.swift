import Foundation
import Logging
import ServiceTesting
import ShopStorage

/// The two backends every storage test runs on.
enum Backend: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    /// A fresh, empty database of this backend with `migrations` applied,
    /// for the duration of `body`; its pool runs meanwhile.
    func withDatabase<Result: Sendable>(
        migrations: [SQLMigration],
        schema: String = "storage_test",
        _ body: (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        switch self {
        case .sqlite:
            let folder = try TemporaryDirectory()
            defer { folder.remove() }
            let database = try SQLiteDatabase(path: "\(folder.path)/test.sqlite", migrations: migrations)
            return try await body(database)
        case .postgres:
            let url = try await PostgresServer.shared().createDatabase()
            let database = try await PostgreSQLDatabase.open(url: url, schema: schema, migrations: migrations, logger: quietLogger)
            return try await withRunning(database) { try await body(database) }
        }
    }
}


let quietLogger: Logger = {
    var logger = Logger(label: "storage-tests")
    logger.logLevel = .critical
    return logger
}()

/// Runs the database's services (its pool) around `body`.
func withRunning<Result: Sendable>(_ database: any SQLDatabase, _ body: () async throws -> Result) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in database.services {
            group.addTask { try await service.run() }
        }
        defer { group.cancelAll() }
        return try await body()
    }
}

/// A table of every kind of value the stores keep.
let sampleMigrations: [SQLMigration] = [
    SQLMigration("v1: samples") { dialect in
        [
            """
            CREATE TABLE sample (
                seq \(dialect.autoIncrementPrimaryKey),
                name TEXT NOT NULL UNIQUE,
                amount BIGINT NOT NULL CHECK (amount >= 0),
                ratio DOUBLE PRECISION,
                flag BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
        ]
    },
]
