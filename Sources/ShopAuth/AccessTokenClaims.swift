import Foundation
import JWTKit

/// What an access token says about its bearer: who they are (`sub`), what
/// they may do (`role`), which version of the account's tokens it belongs to
/// (`ver`), when the token was issued (`iat`) and until when it is good
/// (`exp`).
///
/// The version is the account's token version when the token was issued.
/// The user service raises it when the account is deactivated, its role
/// changes or its password changes; where identity is established (the
/// gateway) a token whose version is not the account's current one is
/// refused, so those changes take effect on the next request instead of
/// when the token expires.
///
/// Times are whole seconds since 1970 on the wire (JWT "NumericDate"), so a
/// decoded value equals the one that was signed when both were built from
/// whole seconds (``TokenAuthority/issue(userID:role:tokenVersion:lifetime:now:)`` does
/// this).
public struct AccessTokenClaims: Sendable, Hashable {
    /// The bearer's role, as the gateway and the services check it.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        case user
        case admin
    }

    /// The user's id (the JWT subject).
    public var userID: String
    public var role: Role
    /// The account's token version at issue.
    public var tokenVersion: Int64
    public var issuedAt: Date
    public var expiresAt: Date

    public init(userID: String, role: Role, tokenVersion: Int64 = 0, issuedAt: Date, expiresAt: Date) {
        self.userID = userID
        self.role = role
        self.tokenVersion = tokenVersion
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// Whether the token is still good at `date`.
    public func isValid(at date: Date = Date()) -> Bool {
        date < expiresAt
    }
}

extension AccessTokenClaims: JWTPayload {
    private enum CodingKeys: String, CodingKey {
        case subject = "sub"
        case role
        case tokenVersion = "ver"
        case issuedAt = "iat"
        case expiresAt = "exp"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        userID = try container.decode(String.self, forKey: .subject)
        role = try container.decode(Role.self, forKey: .role)
        tokenVersion = try container.decode(Int64.self, forKey: .tokenVersion)
        issuedAt = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .issuedAt))
        expiresAt = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .expiresAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userID, forKey: .subject)
        try container.encode(role, forKey: .role)
        try container.encode(tokenVersion, forKey: .tokenVersion)
        try container.encode(Int64(issuedAt.timeIntervalSince1970.rounded(.down)), forKey: .issuedAt)
        try container.encode(Int64(expiresAt.timeIntervalSince1970.rounded(.down)), forKey: .expiresAt)
    }

    /// Called by jwt-kit once the signature is verified: rejects expired
    /// tokens, tokens without a subject and negative versions.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        guard !userID.isEmpty, tokenVersion >= 0 else { throw TokenError.invalidClaims }
        guard isValid(at: Date()) else { throw TokenError.expired }
    }
}
