import FrameRPC
import Foundation
import ServiceTesting
import ShopStorage
import Testing

/// What only PostgreSQL does: a schema per service, notifications between
/// processes, and losing the server.
@Suite("PostgreSQL storage")
struct PostgresSchemaTests {
    @Test("each service's tables live in its own schema: another service's are out of reach")
    func schemasAreSeparate() async throws {
        let url = try await PostgresServer.shared().createDatabase()
        let first = try await PostgreSQLDatabase.open(url: url, schema: "first", migrations: sampleMigrations, logger: quietLogger)
        let other = try await PostgreSQLDatabase.open(
            url: url, schema: "other",
            migrations: [SQLMigration("v1: other") { _ in ["CREATE TABLE private_thing (id TEXT PRIMARY KEY)"] }],
            logger: quietLogger
        )
        try await withRunning(first) {
            try await withRunning(other) {
                try await first.write { db in try await db.execute("INSERT INTO sample (name, amount) VALUES (?, ?)", ["mine", 1]) }
                let trespass: @Sendable () async throws -> Void = {
                    _ = try await first.read { db in try await db.query("SELECT id FROM private_thing", []) }
                }
                let failure = await #expect(throws: StorageError.self) { try await trespass() }
                #expect(failure?.kind == .other)
                let own = try await other.read { db in try await db.queryOne("SELECT COUNT(*) AS n FROM private_thing")?.int("n") }
                #expect(own == 0)
            }
        }
    }

    @Test("a committed write's notification reaches a listener in another connection; a rolled back one's never does")
    func notificationsFollowCommits() async throws {
        let url = try await PostgresServer.shared().createDatabase()
        let database = try await PostgreSQLDatabase.open(url: url, schema: "notes", migrations: sampleMigrations, logger: quietLogger)
        try await withRunning(database) {
            guard let stream = database.notifications(channel: "test_channel") else {
                Issue.record("PostgreSQL gives notifications")
                return
            }
            var iterator = stream.makeAsyncIterator()
            // The first element says the listener is connected.
            let connected = await iterator.next()
            #expect(connected == .some(nil))
            struct Refused: Error {}
            try? await database.write { db in
                try await db.notify(channel: "test_channel", payload: "rolled-back")
                throw Refused()
            }
            try await database.write { db in try await db.notify(channel: "test_channel", payload: "committed") }
            let received = await iterator.next()
            #expect(received == .some("committed"))
        }
    }

    @Test("the server lost: calls fail UNAVAILABLE within the timeout; back: calls succeed again")
    func lostAndBack() async throws {
        let server = try await PostgresServer.start()
        let url = try await server.createDatabase("lost")
        var settings = PostgreSQLDatabase.Settings()
        settings.timeout = .seconds(3)
        let database = try await PostgreSQLDatabase.open(url: url, schema: "lost", migrations: sampleMigrations, settings: settings, logger: quietLogger)
        let restarted = try await withRunning(database) { () -> PostgresServer in
            try await database.write { db in try await db.execute("INSERT INTO sample (name, amount) VALUES (?, ?)", ["kept", 1]) }
            await server.stop(keepingData: true)
            let started = ContinuousClock.now
            let readWhileDown: @Sendable () async throws -> Void = {
                _ = try await database.read { db in try await db.query("SELECT name FROM sample", []) }
            }
            let failure = await #expect(throws: StorageError.self) { try await readWhileDown() }
            #expect(failure?.rpcError.code == .unavailable)
            #expect(ContinuousClock.now - started < .seconds(10))
            let back = try await server.restart()
            // The pool reconnects on its own (its backoff), within seconds.
            var names: [String]?
            let deadline = ContinuousClock.now + .seconds(30)
            while names == nil, ContinuousClock.now < deadline {
                names = try? await database.read { db in try await db.query("SELECT name FROM sample", []).map { try $0.string("name") } }
                if names == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(names == ["kept"])
            return back
        }
        await restarted.stop()
    }

    @Test("a server that is not there: opening fails at once with one sentence naming it, without the password")
    func unreachableAtStart() async throws {
        let port = try restartablePort()
        let open: @Sendable () async throws -> Void = {
            _ = try await PostgreSQLDatabase.open(
                url: "postgres://shop:secret-password@127.0.0.1:\(port)/shop", schema: "nowhere", migrations: [], logger: quietLogger
            )
        }
        let failure = await #expect(throws: StorageError.self) { try await open() }
        #expect(failure?.kind == .unavailable)
        #expect(failure?.message.hasPrefix("cannot reach the PostgreSQL database postgres://shop@127.0.0.1:\(port)/shop") == true)
        #expect(failure?.message.contains("secret-password") == false)
    }
}
