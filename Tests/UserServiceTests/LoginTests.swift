import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import ShopAuth
import Testing

@Suite("Login")
struct LoginTests {
    @Test("the right password gets a bearer token that verifies with ShopAuth and names the user")
    func happyPath() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let before = Date().addingTimeInterval(-1)
            let response = try await client.login(user.email)
            #expect(response.tokenType == "bearer")
            #expect(response.expiresIn == 3600)
            let claims = try await TokenAuthority(signingKey: Fixture.signingKey).verify(response.accessToken)
            #expect(claims.userID == user.id)
            #expect(claims.role == .user)
            #expect(claims.issuedAt >= before.addingTimeInterval(-1) && claims.issuedAt <= Date())
            #expect(claims.expiresAt.timeIntervalSince(claims.issuedAt) == 3600)
        }
    }

    @Test("an admin's token carries the admin role")
    func adminRole() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            _ = try await client.updateUser(.with { $0.id = user.id; $0.role = .admin }, options: try await Fixture.asAdmin())
            let token = try await client.login(user.email).accessToken
            #expect(try await TokenAuthority(signingKey: Fixture.signingKey).verify(token).role == .admin)
        }
    }

    @Test("SHOP_TOKEN_TTL_SECONDS sets expires_in and the token's expiry")
    func customLifetime() async throws {
        var settings = Fixture.settings
        settings["SHOP_TOKEN_TTL_SECONDS"] = "120"
        try await withUserService(settings: settings) { client throws in
            let user = try await client.register()
            let response = try await client.login(user.email)
            #expect(response.expiresIn == 120)
            let claims = try await TokenAuthority(signingKey: Fixture.signingKey).verify(response.accessToken)
            #expect(claims.expiresAt.timeIntervalSince(claims.issuedAt) == 120)
        }
    }

    @Test("the email is matched case-insensitively and without surrounding spaces")
    func emailCase() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let response = try await client.login(" \(user.email.uppercased()) ")
            #expect(!response.accessToken.isEmpty)
        }
    }

    @Test("unknown email and wrong password get the same UNAUTHENTICATED answer")
    func identicalFailures() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let wrongPassword = await rpcError { _ = try await client.login(user.email, "not the password") }
            let unknownEmail = await rpcError { _ = try await client.login(Fixture.newEmail("nobody"), Fixture.password) }
            #expect(wrongPassword?.code == .unauthenticated)
            #expect(wrongPassword?.message == "invalid email or password")
            #expect(unknownEmail == wrongPassword)
        }
    }

    @Test("a deactivated user gets the same UNAUTHENTICATED answer, even with the right password")
    func deactivated() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            _ = try await client.deactivateUser(.with { $0.id = user.id }, options: try await Fixture.asAdmin())
            let error = await rpcError { _ = try await client.login(user.email) }
            #expect(error?.code == .unauthenticated)
            #expect(error?.message == "invalid email or password")
        }
    }

    @Test("a user created inactive cannot log in")
    func createdInactive() async throws {
        try await withUserService { client throws in
            let user = try await client.register(isActive: false)
            let error = await rpcError { _ = try await client.login(user.email) }
            #expect(error?.code == .unauthenticated)
        }
    }

    @Test("an empty email or password is INVALID_ARGUMENT naming the field")
    func emptyFields() async throws {
        try await withUserService { client throws in
            let noEmail = await rpcError { _ = try await client.login("", Fixture.password) }
            #expect(noEmail?.code == .invalidArgument)
            #expect(noEmail?.message.hasPrefix("email:") == true)
            let noPassword = await rpcError { _ = try await client.login("ada@example.com", "") }
            #expect(noPassword?.code == .invalidArgument)
            #expect(noPassword?.message.hasPrefix("password:") == true)
        }
    }

    @Test("logging in twice gives two tokens that both verify")
    func twice() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            let authority = try await TokenAuthority(signingKey: Fixture.signingKey)
            let first = try await client.login(user.email).accessToken
            let second = try await client.login(user.email).accessToken
            #expect(try await authority.verify(first).userID == user.id)
            #expect(try await authority.verify(second).userID == user.id)
        }
    }
}
