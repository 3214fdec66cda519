import FrameRPC
import ServiceSupport
import ShopAuth

/// Who a request acts for, as its verified token says, and that token.
///
/// Upstream, the identity travels as the token itself (`authorization:
/// Bearer <token>` metadata), never as bare claims: each service verifies
/// the token again (``CallerResolver``), and believes it only on a
/// connection whose certificate names the gateway.
public struct Identity: Sendable, Hashable {
    public let userID: String
    public let role: AccessTokenClaims.Role
    /// The account's token version the token carries.
    public let tokenVersion: Int64
    /// The access token the identity was verified from, forwarded as is.
    public let token: String

    public init(userID: String, role: AccessTokenClaims.Role, tokenVersion: Int64 = 0, token: String) {
        self.userID = userID
        self.role = role
        self.tokenVersion = tokenVersion
        self.token = token
    }

    public init(_ claims: AccessTokenClaims, token: String) {
        self.init(userID: claims.userID, role: claims.role, tokenVersion: claims.tokenVersion, token: token)
    }

    public var isAdmin: Bool { role == .admin }

    /// Sets `authorization: Bearer <token>` in `metadata`.
    func write(to metadata: inout Metadata) {
        metadata[CallerResolver.authorizationKey] = BearerToken.authorization(token)
    }
}
