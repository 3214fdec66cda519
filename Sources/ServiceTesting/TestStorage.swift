import Foundation
import ServiceSupport
import Synchronization

/// Which backend the contract suites' services store their data in:
/// SQLite files in their data folders (the default), or PostgreSQL when
/// `SHOP_TEST_STORAGE=postgres`, each data folder standing for one
/// database of the shared throwaway server (``PostgresServer/shared()``).
///
/// `.ci/run` runs the contract suites once each way. The same data folder
/// always maps to the same database, so a test that stops a service and
/// starts it again on its folder finds its data again, as with SQLite.
public enum TestStorage {
    public static let setting = "SHOP_TEST_STORAGE"

    /// Whether this test run stores on PostgreSQL.
    public static var usesPostgres: Bool {
        ProcessInfo.processInfo.environment[setting]?.lowercased() == "postgres"
    }

    /// `environment` with `SHOP_DATABASE_URL` set to its folder's database
    /// when this run stores on PostgreSQL and the test set no URL itself;
    /// unchanged otherwise.
    public static func prepared(_ environment: ServiceEnvironment) async throws -> ServiceEnvironment {
        guard usesPostgres, environment.setting(ServiceDatabase.urlSetting) == nil else { return environment }
        var environment = environment
        environment.settings[ServiceDatabase.urlSetting] = try await databaseURL(forFolder: environment.dataDirectory)
        return environment
    }

    /// The name of the database standing for `folder`, created on first use.
    public static func databaseName(forFolder folder: String) async throws -> String {
        _ = try await databaseURL(forFolder: folder)
        return name(forFolder: folder)
    }

    private static func name(forFolder folder: String) -> String {
        "folder_" + stableHash(URL(fileURLWithPath: folder).standardizedFileURL.path)
    }

    /// The database standing for `folder` on the shared server, created on
    /// first use.
    public static func databaseURL(forFolder folder: String) async throws -> String {
        let name = name(forFolder: folder)
        let server = try await PostgresServer.shared()
        if created.withLock({ $0.contains(name) }) { return server.url(database: name) }
        let url = try await server.createDatabase(name)
        created.withLock { _ = $0.insert(name) }
        return url
    }

    private static let created = Mutex<Set<String>>([])

    /// FNV-1a, 64 bits, in hex: the same for the same path in every run.
    private static func stableHash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
