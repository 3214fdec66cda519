import FrameRPC
import Foundation
import ServiceSupport
import ServiceTesting
import ShopAPI
import UserService

/// Settings and identities shared by the user service's suites.
enum Fixture {
    static let signingKey = "user-service-tests-signing-key-0123456789"

    /// A valid configuration with cheap password hashing: production keeps
    /// 600,000 rounds; the suites would otherwise spend most of their time
    /// hashing. Tests about hashing cost use ``productionSettings``.
    static var settings: [String: String] {
        [
            "SHOP_SIGNING_KEY": signingKey,
            "SHOP_PASSWORD_ROUNDS": "1000",
            "SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS": "true",
        ]
    }

    /// Only the signing key: everything else at its production default.
    static var productionSettings: [String: String] {
        ["SHOP_SIGNING_KEY": signingKey]
    }

    static let password = "correct horse battery"

    /// Call options that act for `userID` as a plain user.
    static func asUser(_ userID: String) -> CallOptions {
        CallOptions(metadata: ["x-user-id": userID, "x-user-role": "user"])
    }

    /// Call options that act for `userID` as an admin.
    static func asAdmin(_ userID: String = "00000000-0000-0000-0000-00000000a0a0") -> CallOptions {
        CallOptions(metadata: ["x-user-id": userID, "x-user-role": "admin"])
    }

    /// A fresh address no other test uses.
    static func newEmail(_ prefix: String = "user") -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
    }

    static func environment(_ directory: String, settings: [String: String] = Fixture.settings) -> ServiceEnvironment {
        ServiceEnvironment(dataDirectory: directory, settings: settings, tls: TestPKI.shared.server(as: "user"), logger: testLogger("user-tests"))
    }
}

/// Runs the user service in this process (in `directory`, or a temporary
/// folder removed afterwards) and gives `body` a client over real TCP.
func withUserService<Result: Sendable>(
    settings: [String: String] = Fixture.settings,
    directory: String? = nil,
    _ body: (UserServiceClient) async throws -> Result
) async throws -> Result {
    let temporary = try TemporaryDirectory()
    defer { temporary.remove() }
    let environment = Fixture.environment(directory ?? temporary.path, settings: settings)
    return try await withRunningService(UserServiceApp.factory, environment: environment) { port in
        let rpc = RPCClient.testing(port: port, calling: "user")
        defer { rpc.shutdown() }
        return try await body(UserServiceClient(rpc))
    }
}

extension UserServiceClient {
    /// Registers a user with a fresh email (or `email`) and ``Fixture/password``.
    func register(
        email: String = Fixture.newEmail(),
        fullName: String = "Ada Lovelace",
        password: String = Fixture.password,
        isActive: Bool? = nil
    ) async throws -> Shop_User_V1_User {
        try await createUser(.with {
            $0.email = email
            $0.fullName = fullName
            $0.password = password
            if let isActive { $0.isActive = isActive }
        })
    }

    /// Logs in and returns the response.
    func login(_ email: String, _ password: String = Fixture.password) async throws -> Shop_User_V1_LoginResponse {
        try await login(.with {
            $0.email = email
            $0.password = password
        })
    }

    /// Reads a user as an internal caller (full rights).
    func user(_ id: String) async throws -> Shop_User_V1_User {
        try await getUser(.with { $0.id = id })
    }
}

/// The error a factory threw, as text, or `nil` if it built the service.
func factoryError(_ settings: [String: String]) async -> String? {
    guard let temporary = try? TemporaryDirectory() else { return "no temporary directory" }
    defer { temporary.remove() }
    do {
        _ = try await UserServiceApp.factory(Fixture.environment(temporary.path, settings: settings))
        return nil
    } catch let error as ConfigurationError {
        return error.description
    } catch {
        return "not a ConfigurationError: \(error)"
    }
}
