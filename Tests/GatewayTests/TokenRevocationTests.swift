import FrameRPC
import Foundation
@testable import Gateway
import ServiceTesting
import ShopAPI
import Testing

/// Issue 11, tokens that outlive their user: against the real shop over
/// real HTTP, with the gateway asking the user service on every request
/// (no cache), a change to the account ends its older tokens on the next
/// request.
@Suite("Tokens that outlive their user")
struct TokenRevocationTests {
    /// The shop and a gateway that asks the account's status every time.
    private func withUncachedShop(_ body: @escaping @Sendable (HTTP) async throws -> Void) async throws {
        try await withShop({ $0.accountStatusCacheDuration = .zero }, body)
    }

    @Test("a deactivated user's old token is refused on the next request, reads and updates alike")
    func deactivatedUsersTokenIsRefused() async throws {
        try await withUncachedShop { http in
            let admin = try await http.adminToken()
            let user = try await http.newUser()
            #expect(try await http.get("/api/users/me", token: user.token).status == 200)
            #expect(try await http.delete("/api/users/\(user.id)", token: admin).status == 204)
            let read = try await http.get("/api/users/me", token: user.token)
            #expect(read.status == 401, "\(read)")
            #expect(read.string("detail") == "the token is no longer valid; log in again")
            let update = try await http.put("/api/users/\(user.id)", token: user.token, json: #"{"full_name":"Still Here"}"#)
            #expect(update.status == 401, "\(update)")
        }
    }

    @Test("a demoted admin's token no longer passes admin routes")
    func demotedAdminsTokenIsRefused() async throws {
        try await withUncachedShop { http in
            let admin = try await http.adminToken()
            let user = try await http.register()
            #expect(try await http.put("/api/users/\(user.id)", token: admin, json: #"{"role":"admin"}"#).status == 200)
            let promoted = try await http.login(user.email)
            #expect(try await http.get("/api/users/", token: promoted).status == 200)
            #expect(try await http.put("/api/users/\(user.id)", token: admin, json: #"{"role":"user"}"#).status == 200)
            let after = try await http.get("/api/users/", token: promoted)
            #expect(after.status == 401, "\(after)")
            // Logging in again gives a plain user's token: 403 on admin routes.
            let fresh = try await http.login(user.email)
            #expect(try await http.get("/api/users/", token: fresh).status == 403)
        }
    }

    @Test("a password change ends every older token; a login with the new password works")
    func passwordChangeEndsOldTokens() async throws {
        try await withUncachedShop { http in
            let user = try await http.register()
            let first = try await http.login(user.email)
            let second = try await http.login(user.email)
            let change = try await http.put("/api/users/\(user.id)", token: first, json: #"{"password":"a brand new secret"}"#)
            #expect(change.status == 200, "\(change)")
            #expect(try await http.get("/api/users/me", token: first).status == 401)
            #expect(try await http.get("/api/users/me", token: second).status == 401)
            let fresh = try await http.login(user.email, "a brand new secret")
            #expect(try await http.get("/api/users/me", token: fresh).status == 200)
        }
    }

    @Test("a name change keeps the token")
    func nameChangeKeepsTheToken() async throws {
        try await withUncachedShop { http in
            let user = try await http.newUser()
            #expect(try await http.put("/api/users/\(user.id)", token: user.token, json: #"{"full_name":"Ada King"}"#).status == 200)
            #expect(try await http.get("/api/users/me", token: user.token).status == 200)
        }
    }

    @Test("with the default cache a deactivation takes effect within its documented delay")
    func cachedDeactivationTakesEffectWithinTheDelay() async throws {
        try await withShop { http in
            let admin = try await http.adminToken()
            let user = try await http.newUser()
            #expect(try await http.get("/api/users/me", token: user.token).status == 200)
            #expect(try await http.delete("/api/users/\(user.id)", token: admin).status == 204)
            let refused = try await eventually(timeout: .seconds(10)) {
                try await http.get("/api/users/me", token: user.token).status == 401
            }
            #expect(refused)
        }
    }
}
