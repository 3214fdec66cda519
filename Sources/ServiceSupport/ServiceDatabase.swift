import CoreMetrics
import Foundation
import ShopObservability
import ShopStorage

/// Opens a service's own database on the backend its environment names.
///
/// - `SHOP_DATABASE_URL` set (`postgres://user:password@host:5432/db`):
///   PostgreSQL, the service's tables in a schema named after it (`order`)
///   in that database, shared by every replica of the service and by the
///   other services (each in its own schema). Migrations run at start under
///   an advisory lock. Pool size `SHOP_DATABASE_POOL_SIZE` (default 10) and
///   the bound on each read or write `SHOP_DATABASE_TIMEOUT_SECONDS`
///   (default 5, waiting for a connection included).
/// - unset: SQLite, `<data>/<name>.sqlite`, as before (WAL, FULL sync).
///
/// Every statement's time goes to the `db_statement_duration_seconds{database}`
/// histogram, `database` being the service's name.
public enum ServiceDatabase {
    public static let urlSetting = "SHOP_DATABASE_URL"
    public static let poolSizeSetting = "SHOP_DATABASE_POOL_SIZE"
    public static let timeoutSetting = "SHOP_DATABASE_TIMEOUT_SECONDS"

    /// - Throws: ``StorageError`` (UNAVAILABLE) with one sentence when the
    ///   PostgreSQL server cannot be reached at start; ``ConfigurationError``
    ///   for a malformed setting.
    public static func open(_ name: String, migrations: [SQLMigration], environment: ServiceEnvironment) async throws -> any SQLDatabase {
        let statementTime = CoreMetrics.Timer(
            label: "db_statement_duration_seconds",
            dimensions: [("database", name)],
            factory: environment.metrics.factory
        )
        guard let url = environment.databaseURL else {
            return try SQLiteDatabase(path: environment.databasePath(name), migrations: migrations, statementTime: statementTime)
        }
        var settings = PostgreSQLDatabase.Settings()
        if let text = environment.setting(poolSizeSetting) {
            guard let size = Int(text), (1...1_000).contains(size) else {
                throw ConfigurationError("\(poolSizeSetting) must be a number of connections from 1 to 1000, not '\(text.prefix(32))'")
            }
            settings.poolSize = size
        }
        if let text = environment.setting(timeoutSetting) {
            guard let seconds = Double(text), seconds > 0, seconds <= 3_600 else {
                throw ConfigurationError("\(timeoutSetting) must be a number of seconds above 0, not '\(text.prefix(32))'")
            }
            settings.timeout = .milliseconds(Int64(seconds * 1_000))
        }
        do {
            return try await PostgreSQLDatabase.open(
                url: url, schema: name, migrations: migrations, settings: settings,
                statementTime: statementTime, logger: environment.logger
            )
        } catch let error as StorageError where error.kind == .malformed {
            throw ConfigurationError("\(urlSetting): \(error.message)")
        }
    }
}
