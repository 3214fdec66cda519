import Foundation
import GRDB
import CoreMetrics
import ShopObservability

/// Opens a service's own SQLite database: WAL mode (a `DatabasePool`), busy
/// waits instead of immediate errors, and the service's migrations applied
/// before the first call is served.
///
/// Every read and write runs on GRDB's own dispatch queues, never on a NIO
/// event loop, so slow statements cannot stall other connections.
public enum ServiceDatabase {
    /// - Parameters:
    ///   - path: the SQLite file; its folder is created when missing.
    ///   - migrations: applied before this returns.
    ///   - metrics: when given, every statement's time goes to the
    ///     `db_statement_duration_seconds{database}` histogram, `database`
    ///     being the file's name without extension (`order`).
    public static func open(at path: String, migrations: DatabaseMigrator, metrics: MetricsRegistry? = nil) throws -> DatabasePool {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let statementTime = metrics.map {
            CoreMetrics.Timer(
                label: "db_statement_duration_seconds",
                dimensions: [("database", url.deletingPathExtension().lastPathComponent)],
                factory: $0.factory
            )
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // WAL with NORMAL sync loses nothing on a process crash
            // (kill -9); FULL also survives power loss, at some latency.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if let statementTime {
                // SQLite's own profile of each statement: one place that
                // sees every read and write of every store.
                db.trace(options: .profile) { event in
                    if case .profile(_, let duration) = event {
                        statementTime.recordNanoseconds(Int64(duration * 1_000_000_000))
                    }
                }
            }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try migrations.migrate(pool)
        return pool
    }
}
