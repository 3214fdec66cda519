import Foundation
import GRDB
import ServiceTesting
import ShopAPI
import Testing

@Suite("Password storage")
struct PasswordStorageTests {
    /// The stored hash of every user, by email, read straight from the
    /// database: the SQLite file, or the folder's PostgreSQL database when
    /// the suite runs on PostgreSQL (``TestStorage``).
    static func storedHashes(in directory: String) async throws -> [String: String] {
        if TestStorage.usesPostgres {
            let server = try await PostgresServer.shared()
            let lines = try await server.psql(
                "SELECT email || ' ' || password_hash FROM \"user\".users",
                database: try await TestStorage.databaseName(forFolder: directory)
            )
            var hashes: [String: String] = [:]
            for line in lines.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                if parts.count == 2 { hashes[parts[0]] = parts[1] }
            }
            return hashes
        }
        return try sqliteHashes(in: directory)
    }

    private static func sqliteHashes(in directory: String) throws -> [String: String] {
        let database = try DatabaseQueue(path: URL(fileURLWithPath: directory).appendingPathComponent("user.sqlite").path)
        return try database.read { db in
            var hashes: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT email, password_hash FROM users") {
                hashes[row["email"]] = row["password_hash"]
            }
            return hashes
        }
    }

    @Test("by default passwords are stored as PBKDF2-SHA256 with 600,000 rounds and their own salt")
    func productionFormat() async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let (first, second) = try await withUserService(settings: Fixture.productionSettings, directory: temporary.path) { client throws in
            (try await client.register(), try await client.register())
        }
        let hashes = try await Self.storedHashes(in: temporary.path)
        let parts = try #require(hashes[first.email]).split(separator: "$").map(String.init)
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2-sha256")
        #expect(parts[1] == "600000")
        #expect(Data(base64Encoded: parts[2])?.count == 16)
        #expect(Data(base64Encoded: parts[3])?.count == 32)
        // Same password, different salt, different hash; the password itself nowhere.
        let other = try #require(hashes[second.email])
        #expect(other != hashes[first.email])
        #expect(other.split(separator: "$")[2] != parts[2])
        #expect(hashes.values.allSatisfy { !$0.contains(Fixture.password) })
    }

    @Test("a hash made with fewer rounds than configured is upgraded at the next login")
    func upgradeOnLogin() async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let user = try await withUserService(directory: temporary.path) { client throws in
            try await client.register()
        }
        let hashes = try await Self.storedHashes(in: temporary.path)
        #expect(hashes[user.email]?.hasPrefix("pbkdf2-sha256$1000$") == true)
        var stronger = Fixture.settings
        stronger["SHOP_PASSWORD_ROUNDS"] = "2000"
        try await withUserService(settings: stronger, directory: temporary.path) { client throws in
            _ = try await client.login(user.email)
            _ = try await client.login(user.email)
        }
        let rehashed = try await Self.storedHashes(in: temporary.path)
        #expect(rehashed[user.email]?.hasPrefix("pbkdf2-sha256$2000$") == true)
    }
}
