import Foundation
import RESTTranscoding
import ShopAuth

/// Checks who a request is and whether its route lets them in, before any
/// RPC is made.
///
/// The token comes from `Authorization: Bearer <token>` and is verified by
/// ShopAuth's ``TokenAuthority`` (HS256 only, signature, expiry), then
/// against its account (``AccountCheck``: active, current token version,
/// cached briefly); a missing, bad or revoked token is 401. What a verified identity may do is the route's
/// ``RESTRoute/Auth``:
///
/// | auth | who passes | otherwise |
/// | --- | --- | --- |
/// | `public` | anyone; no token is read and no identity is passed on | - |
/// | `user` | any valid token | 401 |
/// | `admin` | a valid token with role `admin` | 403 |
/// | `owner(field:)` | an admin, or the user whose id is in `field` | 403 |
/// | `owner(field: nil)` | any valid token; the service decides | 401 |
public struct Authenticator: Sendable {
    /// The authority is made asynchronously (jwt-kit's key store is an
    /// actor) while the gateway is built synchronously; requests wait for
    /// it, which takes microseconds once, at the first request.
    private let authority: Task<TokenAuthority, any Error>
    private let accounts: AccountCheck

    /// - Parameter accounts: whether a token's account still stands behind it.
    /// - Throws: ``TokenError/keyTooShort(byteCount:minimum:)`` for a key
    ///   that HS256 must not use, before anything starts.
    public init(signingKey: String, accounts: AccountCheck) throws(TokenError) {
        let byteCount = signingKey.utf8.count
        guard byteCount >= TokenAuthority.minimumKeyByteCount else {
            throw .keyTooShort(byteCount: byteCount, minimum: TokenAuthority.minimumKeyByteCount)
        }
        authority = Task { try await TokenAuthority(signingKey: signingKey) }
        self.accounts = accounts
    }

    /// The identity a request acts for, or `nil` for a public route.
    ///
    /// - Parameters:
    ///   - authorization: the `Authorization` header, if any.
    ///   - ownerValue: the value of the request field named by an
    ///     `owner(field:)` route, when it is known now (from the path);
    ///     `nil` defers that comparison to ``checkOwner(_:identity:value:)``.
    /// - Throws: 401 or 403 as a ``GatewayError``.
    public func authorize(
        _ auth: RESTRoute.Auth,
        authorization: String?,
        ownerValue: String? = nil
    ) async throws(GatewayError) -> Identity? {
        if auth == .public { return nil }
        let (claims, token) = try await verifiedClaims(authorization: authorization)
        let identity = Identity(claims, token: token)
        // The account itself is confirmed later, just before the call
        // (``confirmAccount(of:)``).
        switch auth {
        case .public, .user, .owner(field: nil):
            break
        case .admin:
            guard identity.isAdmin else { throw .permissionDenied("admins only") }
        case .owner(field: .some(let field)):
            if let ownerValue { try Self.checkOwner(field, identity: identity, value: ownerValue) }
        }
        return identity
    }

    /// Whether the identity's account still stands behind its token
    /// (``AccountCheck``): asked once the request is known to be well
    /// formed, just before it goes upstream, so that what the token or the
    /// input alone refuses costs no call to the user service.
    ///
    /// - Throws: 401 for a deactivated account or an older token version,
    ///   503 when that cannot be found out.
    public func confirmAccount(of identity: Identity) async throws(GatewayError) {
        try await accounts.verify(userID: identity.userID, tokenVersion: identity.tokenVersion)
    }

    /// The owner rule of `owner(field:)`: an admin, or the user whose id is
    /// `value` (UUIDs compared as UUIDs, so letter case does not matter).
    public static func checkOwner(_ field: String, identity: Identity, value: String?) throws(GatewayError) {
        guard identity.isAdmin || value.map({ sameID($0, identity.userID) }) == true else {
            throw .permissionDenied("not allowed for this \(field)")
        }
    }

    private static func sameID(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let first = UUID(uuidString: a), let second = UUID(uuidString: b) else { return false }
        return first == second
    }

    /// The claims of the token of an `Authorization` header, its signature
    /// and expiry verified (its account not yet).
    private func verifiedClaims(authorization: String?) async throws(GatewayError) -> (AccessTokenClaims, String) {
        guard let authorization, !authorization.trimmingSpaces.isEmpty else {
            throw .unauthenticated("missing bearer token")
        }
        guard let token = BearerToken.parse(authorization) else {
            throw .unauthenticated("the Authorization header must be 'Bearer <token>'")
        }
        let authority: TokenAuthority
        do {
            authority = try await self.authority.value
        } catch {
            throw .internal
        }
        do {
            return (try await authority.verify(token), token)
        } catch {
            throw .unauthenticated(error == .expired ? "the token has expired" : "the token is not valid")
        }
    }
}
