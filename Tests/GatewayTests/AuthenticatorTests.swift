import FrameRPC
@testable import Gateway
import Hummingbird
import RESTTranscoding
import ShopAuth
import Testing

/// Auth decisions with tokens signed through ShopAuth, as the user service
/// signs them.
@Suite("Authentication and route auth rules")
struct AuthenticatorTests {
    let authenticator: Authenticator

    init() throws {
        // Every account is active at version 0, as `Tokens` issues them.
        authenticator = try Authenticator(
            signingKey: Tokens.signingKey,
            accounts: AccountCheck(cacheDuration: .zero) { _ in AccountCheck.Status(isActive: true, tokenVersion: 0) }
        )
    }

    func status(_ auth: RESTRoute.Auth, _ header: String?, owner: String? = nil) async -> Int {
        do {
            _ = try await authenticator.authorize(auth, authorization: header, ownerValue: owner)
            return 200
        } catch {
            return Int(error.status.code)
        }
    }

    @Test("a public route needs no token and passes no identity on")
    func publicRoute() async throws {
        #expect(try await authenticator.authorize(.public, authorization: nil) == nil)
        #expect(try await authenticator.authorize(.public, authorization: "Bearer garbage") == nil)
    }

    @Test("a valid token gives its subject and role")
    func validToken() async throws {
        let token = try await Tokens.valid("u-1", role: .admin)
        let identity = try await authenticator.authorize(.user, authorization: "Bearer \(token)")
        #expect(identity == Identity(userID: "u-1", role: .admin, token: token))
    }

    @Test("the Bearer scheme is read in any case")
    func schemeCase() async throws {
        let token = try await Tokens.valid("u-2")
        #expect(await status(.user, "bearer \(token)") == 200)
        #expect(await status(.user, "BEARER  \(token)") == 200)
    }

    @Test("a missing token is 401")
    func missing() async {
        #expect(await status(.user, nil) == 401)
        #expect(await status(.user, "") == 401)
    }

    @Test("another scheme or a malformed header is 401", arguments: ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token"])
    func badHeader(_ header: String) async {
        #expect(await status(.user, header) == 401)
    }

    @Test("an expired token is 401 and says so")
    func expired() async throws {
        let token = try await Tokens.expired()
        do {
            _ = try await authenticator.authorize(.user, authorization: "Bearer \(token)")
            Issue.record("an expired token was accepted")
        } catch {
            #expect(error.status == .unauthorized)
            #expect(error.detail == "the token has expired")
        }
    }

    @Test("a token signed with another key is 401")
    func wrongSignature() async throws {
        #expect(await status(.admin, "Bearer \(try await Tokens.wrongSignature())") == 401)
    }

    @Test("an unsigned alg-none token is 401")
    func algNone() async {
        #expect(await status(.admin, "Bearer \(Tokens.algNone())") == 401)
    }

    @Test("garbage is 401, never an error of another kind")
    func garbage() async {
        for token in ["x.y.z", "....", String(repeating: "a", count: 20_000), "eyJhbGciOiJIUzI1NiJ9.e30.", "%%%.%%%.%%%"] {
            #expect(await status(.user, "Bearer \(token)") == 401)
        }
    }

    @Test("an admin route refuses a user with 403 and admits an admin")
    func adminRoute() async throws {
        #expect(await status(.admin, "Bearer \(try await Tokens.valid(role: .user))") == 403)
        #expect(await status(.admin, "Bearer \(try await Tokens.valid(role: .admin))") == 200)
    }

    @Test("an owner route admits the owner and admins, and refuses others with 403")
    func ownerRoute() async throws {
        let owner = try await Tokens.valid("owner-1")
        #expect(await status(.owner(field: "id"), "Bearer \(owner)", owner: "owner-1") == 200)
        #expect(await status(.owner(field: "id"), "Bearer \(owner)", owner: "someone-else") == 403)
        #expect(await status(.owner(field: "id"), "Bearer \(try await Tokens.valid(role: .admin))", owner: "someone-else") == 200)
    }

    @Test("an owner route without a field only needs a valid token")
    func ownerWithoutField() async throws {
        #expect(await status(.owner(field: nil), "Bearer \(try await Tokens.valid())") == 200)
        #expect(await status(.owner(field: nil), nil) == 401)
    }

    @Test("the identity goes upstream as the verified token itself, never as bare x-user-id or x-user-role")
    func metadata() {
        var metadata = Metadata()
        Identity(userID: "u-9", role: .admin, token: "header.payload.signature").write(to: &metadata)
        #expect(metadata["authorization"] == "Bearer header.payload.signature")
        #expect(metadata["x-user-id"] == nil)
        #expect(metadata["x-user-role"] == nil)
        #expect(metadata.count == 1)
    }

    @Test("a signing key too short for HS256 is refused up front")
    func shortKey() {
        let accounts = AccountCheck(cacheDuration: .zero) { _ in nil }
        #expect(throws: TokenError.self) { try Authenticator(signingKey: "short", accounts: accounts) }
    }
}
