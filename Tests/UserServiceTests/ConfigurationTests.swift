import FrameRPC
import Foundation
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopAuth
import Testing

@Suite("Settings")
struct ConfigurationTests {
    @Test("without SHOP_SIGNING_KEY the factory refuses to build the service, naming the setting")
    func missingKey() async throws {
        var settings = Fixture.settings
        settings["SHOP_SIGNING_KEY"] = nil
        let message = await factoryError(settings)
        #expect(message?.contains("SHOP_SIGNING_KEY is required") == true, "\(message ?? "built")")
        settings["SHOP_SIGNING_KEY"] = ""
        #expect(await factoryError(settings)?.contains("SHOP_SIGNING_KEY is required") == true)
    }

    @Test("a signing key under 32 bytes is refused with its length, never its value")
    func shortKey() async throws {
        var settings = Fixture.settings
        settings["SHOP_SIGNING_KEY"] = "short-secret-value"
        let message = await factoryError(settings)
        #expect(message?.contains("SHOP_SIGNING_KEY is too short: 18 bytes") == true, "\(message ?? "built")")
        #expect(message?.contains("short-secret-value") == false)
    }

    @Test("the public development key is refused unless SHOP_DEV_MODE says this is `shop up`")
    func developmentKeyOutsideDevMode() async throws {
        var settings = Fixture.settings
        settings["SHOP_SIGNING_KEY"] = DevelopmentSecrets.signingKey
        let message = await factoryError(settings)
        #expect(message?.contains("public development key") == true, "\(message ?? "built")")
        settings["SHOP_DEV_MODE"] = "true"
        #expect(await factoryError(settings) == nil)
    }

    @Test("a token lifetime that is not a positive number is refused", arguments: ["0", "-5", "soon", "99999999999"])
    func badLifetime(value: String) async throws {
        var settings = Fixture.settings
        settings["SHOP_TOKEN_TTL_SECONDS"] = value
        #expect(await factoryError(settings)?.contains("SHOP_TOKEN_TTL_SECONDS") == true)
    }

    @Test("a token lifetime above the one-day cap is refused at start, naming the cap")
    func lifetimeAboveCap() async throws {
        var settings = Fixture.settings
        settings["SHOP_TOKEN_TTL_SECONDS"] = "86401"
        let message = await factoryError(settings)
        #expect(message?.contains("SHOP_TOKEN_TTL_SECONDS is 86401 seconds") == true, "\(message ?? "built")")
        #expect(message?.contains("at most 86400") == true)
        settings["SHOP_TOKEN_TTL_SECONDS"] = "86400"
        #expect(await factoryError(settings) == nil, "the cap itself is allowed")
    }

    @Test("`shop serve user` with a token lifetime of a year exits at start with the reason")
    func processWithLifetimeAboveCap() async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        var settings = Fixture.settings
        settings["SHOP_TOKEN_TTL_SECONDS"] = "31536000"
        let error = await #expect(throws: ConfigurationError.self) {
            _ = try await ShopProcess.start(service: "user", dataDirectory: temporary.path, settings: settings)
        }
        #expect(error?.description.contains("at most 86400") == true, "\(error.map(String.init(describing:)) ?? "")")
    }

    @Test("fewer than 600,000 password rounds are refused unless the test-only setting allows them")
    func weakRounds() async throws {
        #expect(await factoryError(["SHOP_SIGNING_KEY": Fixture.signingKey, "SHOP_PASSWORD_ROUNDS": "1000"])?
            .contains("SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS") == true)
        #expect(await factoryError(["SHOP_SIGNING_KEY": Fixture.signingKey, "SHOP_PASSWORD_ROUNDS": "599999"]) != nil)
        #expect(await factoryError(Fixture.settings) == nil)
    }

    @Test("only one of SHOP_ADMIN_EMAIL and SHOP_ADMIN_PASSWORD is refused")
    func halfAnAdmin() async throws {
        var settings = Fixture.settings
        settings["SHOP_ADMIN_EMAIL"] = "root@example.com"
        #expect(await factoryError(settings)?.contains("SHOP_ADMIN_PASSWORD") == true)
        settings["SHOP_ADMIN_PASSWORD"] = "short"
        #expect(await factoryError(settings)?.contains("SHOP_ADMIN_PASSWORD must be at least 8") == true)
        settings["SHOP_ADMIN_EMAIL"] = "not an email"
        settings["SHOP_ADMIN_PASSWORD"] = "long enough"
        #expect(await factoryError(settings)?.contains("SHOP_ADMIN_EMAIL") == true)
    }

    @Test("`shop serve user` without a signing key exits instead of serving")
    func processWithoutKey() async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        await #expect(throws: ConfigurationError.self) {
            _ = try await ShopProcess.start(service: "user", dataDirectory: temporary.path, settings: ["SHOP_SIGNING_KEY": ""])
        }
    }
}

@Suite("The first admin")
struct AdminBootstrapTests {
    static var settings: [String: String] {
        var settings = Fixture.settings
        settings["SHOP_ADMIN_EMAIL"] = "Root@Example.com"
        settings["SHOP_ADMIN_PASSWORD"] = "admin password"
        return settings
    }

    @Test("SHOP_ADMIN_EMAIL and SHOP_ADMIN_PASSWORD create an admin who can log in")
    func created() async throws {
        try await withUserService(settings: Self.settings) { client throws in
            let users = try await client.listUsers(.init(), options: try await Fixture.asAdmin()).users
            #expect(users.count == 1)
            #expect(users.first?.email == "root@example.com")
            #expect(users.first?.role == .admin)
            #expect(users.first?.isActive == true)
            let token = try await client.login("root@example.com", "admin password").accessToken
            let claims = try await TokenAuthority(signingKey: Fixture.signingKey).verify(token)
            #expect(claims.role == .admin)
            #expect(claims.userID == users.first?.id)
        }
    }

    @Test("a restart with the same settings creates no second admin")
    func idempotent() async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let first = try await withUserService(settings: Self.settings, directory: temporary.path) { client throws in
            try await client.listUsers(.init(), options: try await Fixture.asAdmin()).users
        }
        let second = try await withUserService(settings: Self.settings, directory: temporary.path) { client throws in
            try await client.listUsers(.init(), options: try await Fixture.asAdmin()).users
        }
        #expect(first.count == 1)
        #expect(second == first)
    }

    @Test("an existing user with that email is left as it is")
    func existingUser() async throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let existing = try await withUserService(directory: temporary.path) { client throws in
            try await client.register(email: "root@example.com")
        }
        try await withUserService(settings: Self.settings, directory: temporary.path) { client throws in
            #expect(try await client.listUsers(.init(), options: try await Fixture.asAdmin()).users == [existing])
            let error = await rpcError { _ = try await client.login("root@example.com", "admin password") }
            #expect(error?.code == .unauthenticated)
        }
    }

    @Test("without the settings no admin is created")
    func none() async throws {
        try await withUserService { client throws in
            #expect(try await client.listUsers(.init(), options: try await Fixture.asAdmin()).users.isEmpty)
        }
    }
}
