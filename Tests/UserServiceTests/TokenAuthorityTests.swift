import Foundation
import ShopAuth
import Testing

@Suite("Access tokens (ShopAuth)")
struct TokenAuthorityTests {
    static let key = "token-authority-tests-key-0123456789abcdef"

    @Test("a signed token verifies and carries its subject, role and times")
    func roundTrip() async throws {
        let authority = try await TokenAuthority(signingKey: Self.key)
        let now = Date()
        let issued = try await authority.issue(userID: "user-1", role: .admin, lifetime: 600, now: now)
        let claims = try await authority.verify(issued.token)
        #expect(claims == issued.claims)
        #expect(claims.userID == "user-1")
        #expect(claims.role == .admin)
        #expect(claims.issuedAt.timeIntervalSince1970 == now.timeIntervalSince1970.rounded(.down))
        #expect(claims.expiresAt.timeIntervalSince(claims.issuedAt) == 600)
    }

    @Test("another authority with the same key verifies the token (the gateway's case)")
    func sameKeyElsewhere() async throws {
        let issuer = try await TokenAuthority(signingKey: Self.key)
        let verifier = try await TokenAuthority(signingKey: Self.key)
        let issued = try await issuer.issue(userID: "user-2", role: .user, lifetime: 60)
        #expect(try await verifier.verify(issued.token).userID == "user-2")
    }

    @Test("an expired token is refused as expired")
    func expired() async throws {
        let authority = try await TokenAuthority(signingKey: Self.key)
        let issued = try await authority.issue(userID: "user-1", role: .user, lifetime: 60, now: Date().addingTimeInterval(-120))
        await #expect(throws: TokenError.expired) { try await authority.verify(issued.token) }
    }

    @Test("a token whose payload was changed is refused for its signature")
    func tamperedPayload() async throws {
        let authority = try await TokenAuthority(signingKey: Self.key)
        let issued = try await authority.issue(userID: "user-1", role: .user, lifetime: 60)
        let parts = issued.token.split(separator: ".").map(String.init)
        var forged = issued.claims
        forged.role = .admin
        let forgedPayload = base64URL(try JSONSerialization.data(withJSONObject: [
            "sub": forged.userID, "role": "admin",
            "iat": Int(forged.issuedAt.timeIntervalSince1970), "exp": Int(forged.expiresAt.timeIntervalSince1970),
        ]))
        let tampered = [parts[0], forgedPayload, parts[2]].joined(separator: ".")
        await #expect(throws: TokenError.invalidSignature) { try await authority.verify(tampered) }
    }

    @Test("a token with a changed signature is refused")
    func tamperedSignature() async throws {
        let authority = try await TokenAuthority(signingKey: Self.key)
        let issued = try await authority.issue(userID: "user-1", role: .user, lifetime: 60)
        var signature = Array(issued.token.split(separator: ".")[2])
        signature[0] = signature[0] == "A" ? "B" : "A"
        let parts = issued.token.split(separator: ".").map(String.init)
        let tampered = [parts[0], parts[1], String(signature)].joined(separator: ".")
        await #expect(throws: TokenError.invalidSignature) { try await authority.verify(tampered) }
    }

    @Test("a token signed with another key is refused")
    func otherKey() async throws {
        let other = try await TokenAuthority(signingKey: "a-completely-different-key-0123456789abc")
        let authority = try await TokenAuthority(signingKey: Self.key)
        let issued = try await other.issue(userID: "user-1", role: .admin, lifetime: 60)
        await #expect(throws: TokenError.invalidSignature) { try await authority.verify(issued.token) }
    }

    @Test("an unsigned token (alg none) is refused, with or without a signature part")
    func algorithmNone() async throws {
        let authority = try await TokenAuthority(signingKey: Self.key)
        let header = base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let exp = Int(Date().addingTimeInterval(600).timeIntervalSince1970)
        let payload = base64URL(Data(#"{"sub":"user-1","role":"admin","iat":0,"exp":\#(exp)}"#.utf8))
        await #expect(throws: TokenError.unsupportedAlgorithm("none")) { try await authority.verify("\(header).\(payload).") }
        // Even with the real signature of a genuine token attached.
        let genuine = try await authority.issue(userID: "user-1", role: .admin, lifetime: 600).token
        let signature = genuine.split(separator: ".")[2]
        await #expect(throws: TokenError.unsupportedAlgorithm("none")) { try await authority.verify("\(header).\(payload).\(signature)") }
    }

    @Test("a token naming another algorithm (HS512) is refused before any check")
    func otherAlgorithm() async throws {
        let authority = try await TokenAuthority(signingKey: Self.key)
        let issued = try await authority.issue(userID: "user-1", role: .user, lifetime: 60)
        let parts = issued.token.split(separator: ".").map(String.init)
        let header = base64URL(Data(#"{"alg":"HS512","typ":"JWT"}"#.utf8))
        await #expect(throws: TokenError.unsupportedAlgorithm("HS512")) {
            try await authority.verify([header, parts[1], parts[2]].joined(separator: "."))
        }
    }

    @Test("garbage is refused as malformed", arguments: ["", "abc", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.", String(repeating: "a", count: 9_000)])
    func malformed(token: String) async throws {
        let authority = try await TokenAuthority(signingKey: Self.key)
        do {
            _ = try await authority.verify(token)
            Issue.record("a malformed token was accepted")
        } catch {
            #expect(error == .malformed)
        }
    }

    @Test("a well-signed token without the expected claims is refused")
    func missingClaims() async throws {
        // Signed by the same key through the same path, but with an empty subject.
        let authority = try await TokenAuthority(signingKey: Self.key)
        let claims = AccessTokenClaims(userID: "", role: .user, issuedAt: Date(), expiresAt: Date().addingTimeInterval(60))
        let token = try await authority.sign(claims)
        await #expect(throws: TokenError.invalidClaims) { try await authority.verify(token) }
    }

    @Test("a key shorter than 32 bytes is a typed error, not a crash")
    func shortKey() async throws {
        await #expect(throws: TokenError.keyTooShort(byteCount: 31, minimum: 32)) {
            _ = try await TokenAuthority(signingKey: String(repeating: "k", count: 31))
        }
        await #expect(throws: TokenError.keyTooShort(byteCount: 0, minimum: 32)) {
            _ = try await TokenAuthority(signingKey: "")
        }
        _ = try await TokenAuthority(signingKey: String(repeating: "k", count: 32))
    }

    @Test("the short-key error names the lengths, never the key")
    func shortKeyMessage() async throws {
        let error = TokenError.keyTooShort(byteCount: 5, minimum: 32)
        #expect(error.description.contains("5 bytes"))
        #expect(error.description.contains("32"))
    }
}

/// Base64url without padding, as JWTs spell it.
private func base64URL(_ data: Data) -> String {
    data.base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}
