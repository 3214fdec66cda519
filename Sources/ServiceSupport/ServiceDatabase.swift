import Foundation
import GRDB

/// Opens a service's own SQLite database: WAL mode (a `DatabasePool`), busy
/// waits instead of immediate errors, and the service's migrations applied
/// before the first call is served.
///
/// Every read and write runs on GRDB's own dispatch queues, never on a NIO
/// event loop, so slow statements cannot stall other connections.
public enum ServiceDatabase {
    public static func open(at path: String, migrations: DatabaseMigrator) throws -> DatabasePool {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // WAL with NORMAL sync loses nothing on a process crash
            // (kill -9); FULL also survives power loss, at some latency.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try migrations.migrate(pool)
        return pool
    }
}
