import Foundation
import JWTKit

/// What an access token says about its bearer: who they are (`sub`), what
/// they may do (`role`), when the token was issued (`iat`) and until when it
/// is good (`exp`).
///
/// Times are whole seconds since 1970 on the wire (JWT "NumericDate"), so a
/// decoded value equals the one that was signed when both were built from
/// whole seconds (``TokenAuthority/issue(userID:role:lifetime:now:)`` does
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
    public var issuedAt: Date
    public var expiresAt: Date

    public init(userID: String, role: Role, issuedAt: Date, expiresAt: Date) {
        self.userID = userID
        self.role = role
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
        case issuedAt = "iat"
        case expiresAt = "exp"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        userID = try container.decode(String.self, forKey: .subject)
        role = try container.decode(Role.self, forKey: .role)
        issuedAt = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .issuedAt))
        expiresAt = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .expiresAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userID, forKey: .subject)
        try container.encode(role, forKey: .role)
        try container.encode(Int64(issuedAt.timeIntervalSince1970.rounded(.down)), forKey: .issuedAt)
        try container.encode(Int64(expiresAt.timeIntervalSince1970.rounded(.down)), forKey: .expiresAt)
    }

    /// Called by jwt-kit once the signature is verified: rejects expired
    /// tokens and tokens without a subject.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        guard !userID.isEmpty else { throw TokenError.invalidClaims }
        guard isValid(at: Date()) else { throw TokenError.expired }
    }
}
