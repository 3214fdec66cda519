import FrameRPC
import Foundation
import ServiceTesting
import ShopStorage
import Testing

/// The storage layer's contract, the same on SQLite and PostgreSQL.
@Suite("SQL database, both backends")
struct SQLDatabaseTests {
    @Test("a written row reads back with its types: text, integers, reals, booleans and NULL", arguments: Backend.allCases)
    func valuesRoundTrip(backend: Backend) async throws {
        try await backend.withDatabase(migrations: sampleMigrations) { database in
            let seq = try await database.write { db in
                try await db.queryOne(
                    "INSERT INTO sample (name, amount, ratio, flag) VALUES (?, ?, ?, ?) RETURNING seq",
                    ["it's a \"name\" with ? in it", Int64(9_007_199_254_740_993), 0.25, true]
                )?.int64("seq")
            }
            try await database.write { db in
                try await db.execute("INSERT INTO sample (name, amount, ratio) VALUES (?, ?, ?)", ["second", 0, Optional<Double>.none])
            }
            let rows = try await database.read { db in
                try await db.query("SELECT seq, name, amount, ratio, flag FROM sample ORDER BY seq", [])
            }
            #expect(rows.count == 2)
            #expect(try rows[0].int64("seq") == seq)
            #expect(try rows[0].string("name") == "it's a \"name\" with ? in it")
            #expect(try rows[0].int64("amount") == 9_007_199_254_740_993)
            #expect(try rows[0].double("ratio") == 0.25)
            #expect(try rows[0].bool("flag"))
            #expect(try rows[1].optionalInt64("ratio") == nil)
            #expect(try rows[1].bool("flag") == false)
        }
    }

    @Test("a write whose body throws leaves nothing behind", arguments: Backend.allCases)
    func failedWriteRollsBack(backend: Backend) async throws {
        struct Refused: Error {}
        try await backend.withDatabase(migrations: sampleMigrations) { database in
            let failingWrite: @Sendable () async throws -> Void = {
                try await database.write { db in
                    try await db.execute("INSERT INTO sample (name, amount) VALUES (?, ?)", ["gone", 1])
                    throw Refused()
                }
            }
            await #expect(throws: Refused.self) { try await failingWrite() }
            let count = try await database.read { db in try await db.queryOne("SELECT COUNT(*) AS n FROM sample")?.int("n") }
            #expect(count == 0)
        }
    }

    @Test("a unique violation is a typed error naming its column, on either backend", arguments: Backend.allCases)
    func uniqueViolationIsTyped(backend: Backend) async throws {
        try await backend.withDatabase(migrations: sampleMigrations) { database in
            try await database.write { db in try await db.execute("INSERT INTO sample (name, amount) VALUES (?, ?)", ["taken", 1]) }
            let duplicate: @Sendable () async throws -> Void = {
                _ = try await database.write { db in try await db.execute("INSERT INTO sample (name, amount) VALUES (?, ?)", ["taken", 2]) }
            }
            let failure = await #expect(throws: StorageError.self) { try await duplicate() }
            #expect(failure?.kind == .uniqueViolation)
            #expect(failure?.violatesUnique(table: "sample", column: "name") == true)
            #expect(failure?.violatesUnique(table: "sample", column: "seq") == false)
        }
    }

    @Test("a conditional update changes a row only while its condition holds, and says how many it changed", arguments: Backend.allCases)
    func conditionalUpdateCounts(backend: Backend) async throws {
        try await backend.withDatabase(migrations: sampleMigrations) { database in
            try await database.write { db in try await db.execute("INSERT INTO sample (name, amount) VALUES (?, ?)", ["stock", 3]) }
            var moved: [Int] = []
            for _ in 0..<4 {
                moved.append(try await database.write { db in
                    try await db.execute("UPDATE sample SET amount = amount - ? WHERE name = ? AND amount >= ?", [1, "stock", 1])
                })
            }
            #expect(moved == [1, 1, 1, 0])
        }
    }

    @Test("migrations are applied once: opening again applies only what is new", arguments: Backend.allCases)
    func migrationsApplyOnce(backend: Backend) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let next = sampleMigrations + [SQLMigration("v2: note") { _ in ["ALTER TABLE sample ADD COLUMN note TEXT"] }]
        switch backend {
        case .sqlite:
            let path = "\(folder.path)/again.sqlite"
            _ = try SQLiteDatabase(path: path, migrations: sampleMigrations)
            let database = try SQLiteDatabase(path: path, migrations: next)
            _ = try SQLiteDatabase(path: path, migrations: next)
            let note = try await database.read { db in try await db.queryOne("SELECT COUNT(note) AS n FROM sample")?.int("n") }
            #expect(note == 0)
        case .postgres:
            let url = try await PostgresServer.shared().createDatabase()
            _ = try await PostgreSQLDatabase.open(url: url, schema: "again", migrations: sampleMigrations, logger: quietLogger)
            // Three replicas starting at once: the advisory lock lets one apply v2.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask { _ = try await PostgreSQLDatabase.open(url: url, schema: "again", migrations: next, logger: quietLogger) }
                }
                try await group.waitForAll()
            }
            let server = try await PostgresServer.shared()
            let database = String(url.split(separator: "/").last!)
            let applied = try await server.psql("SELECT string_agg(name, ',' ORDER BY name) FROM again.schema_migrations", database: database)
            #expect(applied == "v1: samples,v2: note")
        }
    }
}
