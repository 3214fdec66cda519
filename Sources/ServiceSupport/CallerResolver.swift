import FrameRPC
import Foundation
import ShopAuth

/// Establishes who a call acts for (``Caller``), from what cannot be forged:
/// the peer's verified certificate and, on the gateway's calls, the access
/// token it forwards.
///
/// - A peer whose certificate names the gateway acts for end users only: a
///   call with `authorization: Bearer <token>` metadata acts for the token's
///   user once this service has verified the token itself (signature under
///   the shared key, HS256, expiry); a forged, expired or other-key token is
///   UNAUTHENTICATED. A call without one is anonymous (a public route).
/// - A peer whose certificate names another service acts as that service.
///   Any identity metadata it sends (a token, `x-user-id`, `x-user-role`) is
///   ignored, never read: only the gateway speaks for users.
/// - A peer with no verified identity (a plaintext connection) is
///   anonymous; the shop's call policies refuse it before any handler runs.
///
/// Whether the token's account is still active and its version current is
/// checked where identity is established, at the gateway (briefly cached);
/// a service trusts the gateway for that and checks only what the token
/// itself proves.
public struct CallerResolver: Sendable {
    /// The service name of the gateway's certificate.
    public static let gateway = "gateway"
    /// The metadata key the gateway forwards the token in.
    public static let authorizationKey = Metadata.ReservedKey.authorization

    private let tokens: TokenAuthority

    public init(tokens: TokenAuthority) {
        self.tokens = tokens
    }

    /// The caller of the call `context` describes.
    ///
    /// - Throws: UNAUTHENTICATED when the gateway forwards authorization
    ///   metadata that is not a valid token.
    public func caller(of context: ServerContext) async throws(RPCError) -> Caller {
        guard let service = context.peer?.service else { return .anonymous }
        guard service == Self.gateway else { return Caller(.service(service)) }
        guard let header = context.metadata[Self.authorizationKey] else { return .anonymous }
        guard let token = BearerToken.parse(header) else {
            throw RPCError(code: .unauthenticated, message: "authorization metadata must be 'Bearer <token>'")
        }
        do {
            let claims = try await tokens.verify(token)
            return Caller(.user(id: claims.userID, role: claims.role))
        } catch {
            throw RPCError(code: .unauthenticated, message: error == .expired ? "the access token has expired" : "the access token is not valid")
        }
    }
}
