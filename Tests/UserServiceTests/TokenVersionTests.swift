import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import ShopAuth
import Testing

/// The account's token version: raised by what must end older tokens,
/// carried in every token issued, reported to the gateway.
@Suite("Token versions")
struct TokenVersionTests {
    private func version(_ client: UserServiceClient, _ id: String) async throws -> Int64 {
        try await client.getAccountStatus(.with { $0.id = id }).tokenVersion
    }

    private func tokenVersion(_ client: UserServiceClient, _ email: String, password: String = Fixture.password) async throws -> Int64 {
        let token = try await client.login(email, password).accessToken
        return try await TokenAuthority(signingKey: Fixture.signingKey).verify(token).tokenVersion
    }

    @Test("a login's token carries the account's current version")
    func loginCarriesTheVersion() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            #expect(try await tokenVersion(client, user.email) == 0)
            _ = try await client.updateUser(.with { $0.id = user.id; $0.role = .admin }, options: try await Fixture.asAdmin())
            #expect(try await tokenVersion(client, user.email) == 1)
        }
    }

    @Test("deactivation, a role change and a password change each raise the version")
    func revokingChangesRaiseIt() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            _ = try await client.updateUser(.with { $0.id = user.id; $0.password = "a new password!" }, options: try await Fixture.asUser(user.id))
            #expect(try await version(client, user.id) == 1)
            _ = try await client.updateUser(.with { $0.id = user.id; $0.role = .admin }, options: try await Fixture.asAdmin())
            #expect(try await version(client, user.id) == 2)
            _ = try await client.deactivateUser(.with { $0.id = user.id }, options: try await Fixture.asAdmin())
            #expect(try await version(client, user.id) == 3)
            let status = try await client.getAccountStatus(.with { $0.id = user.id })
            #expect(!status.isActive && status.role == .admin)
        }
    }

    @Test("a name or email change, or an update that changes nothing, keeps the version")
    func otherChangesKeepIt() async throws {
        try await withUserService { client throws in
            let user = try await client.register()
            _ = try await client.updateUser(.with { $0.id = user.id; $0.fullName = "Ada King"; $0.email = Fixture.newEmail() }, options: try await Fixture.asUser(user.id))
            _ = try await client.updateUser(.with { $0.id = user.id; $0.role = .user; $0.isActive = true }, options: try await Fixture.asAdmin())
            #expect(try await version(client, user.id) == 0)
        }
    }

    @Test("GetAccountStatus of an unknown user is NOT_FOUND")
    func unknownAccount() async throws {
        try await withUserService { client throws in
            let error = await rpcError { _ = try await client.getAccountStatus(.with { $0.id = UUID().uuidString.lowercased() }) }
            #expect(error?.code == .notFound)
        }
    }
}
