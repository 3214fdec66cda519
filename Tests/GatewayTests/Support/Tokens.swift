import Foundation
import ShopAuth

/// Tokens for the gateway's auth tests, signed with the gateway's key
/// through ShopAuth exactly as the user service signs them, plus the bad
/// ones an attacker would try.
enum Tokens {
    static let signingKey = "gateway-tests-signing-key-0123456789abcdef"
    static let otherKey = "not-the-gateway-signing-key-0123456789abcdef"

    static func authority(_ key: String = signingKey) async throws -> TokenAuthority {
        try await TokenAuthority(signingKey: key)
    }

    /// A good token for `userID` with `role`.
    static func valid(_ userID: String = UUID().uuidString.lowercased(), role: AccessTokenClaims.Role = .user) async throws -> String {
        try await authority().issue(userID: userID, role: role, lifetime: 3600).token
    }

    /// A token whose signature is good but whose expiry has passed.
    static func expired(_ userID: String = UUID().uuidString.lowercased()) async throws -> String {
        try await authority().issue(userID: userID, role: .admin, lifetime: 60, now: Date().addingTimeInterval(-3600)).token
    }

    /// A well-formed token signed with another key.
    static func wrongSignature(_ userID: String = UUID().uuidString.lowercased()) async throws -> String {
        try await authority(otherKey).issue(userID: userID, role: .admin, lifetime: 3600).token
    }

    /// An unsigned token (`alg: none`) claiming to be an admin.
    static func algNone(_ userID: String = UUID().uuidString.lowercased()) -> String {
        let header = base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let exp = Int(Date().addingTimeInterval(3600).timeIntervalSince1970)
        let payload = base64URL(Data(#"{"sub":"\#(userID)","role":"admin","iat":\#(exp - 3600),"exp":\#(exp)}"#.utf8))
        return "\(header).\(payload)."
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
