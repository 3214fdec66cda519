import Foundation
import ServiceTesting
import Testing

/// The throwaway PostgreSQL server the PostgreSQL runs of the suites use.
@Suite("PostgreSQL test server")
struct PostgresServerTests {
    @Test("a started server answers SQL in a fresh database of its own")
    func answersInFreshDatabase() async throws {
        let server = try await PostgresServer.start()
        let url = try await server.createDatabase("fixture_check")
        let answer = try await server.psql("SELECT current_database() || ' ' || (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')", database: "fixture_check")
        await server.stop()
        #expect(url.hasSuffix("/fixture_check"))
        #expect(answer == "fixture_check 0")
    }

    @Test("a stopped server removes its folder")
    func stopRemovesFolder() async throws {
        let server = try await PostgresServer.start()
        #expect(FileManager.default.fileExists(atPath: server.folder))
        await server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.folder))
    }
}
