import FrameRPC
import ShopAuth

/// Who a call acts for, as ``CallerResolver`` established it from the
/// verified peer and, for the gateway's calls, the verified access token.
///
/// Three kinds, and nothing in between:
///
/// | principal | from | rights |
/// | --- | --- | --- |
/// | ``Principal/user(id:role:)`` | the gateway, with a valid access token | their own things; admins everything |
/// | ``Principal/service(_:)`` | another service's verified certificate (not the gateway's) | everything, within what the call policy lets that service call |
/// | ``Principal/anonymous`` | the gateway without a token (public routes), or no verified identity at all | nothing that belongs to anyone |
///
/// No identity is anonymous, never internal: internal rights come only from
/// a verified service identity, and the generated call policy decides which
/// RPCs that service may reach at all.
public struct Caller: Sendable, Hashable {
    public enum Principal: Sendable, Hashable {
        /// No proven identity.
        case anonymous
        /// An end user, from the token the gateway forwarded.
        case user(id: String, role: AccessTokenClaims.Role)
        /// Another service acting as itself: the service name of its
        /// verified certificate.
        case service(String)
    }

    public let principal: Principal

    public init(_ principal: Principal) {
        self.principal = principal
    }

    public static let anonymous = Caller(.anonymous)

    /// The end user's id, if the call acts for one.
    public var userID: String? {
        if case .user(let id, _) = principal { return id }
        return nil
    }

    public var isAdmin: Bool {
        if case .user(_, .admin) = principal { return true }
        return false
    }

    /// Another service acting as itself.
    public var isService: Bool {
        if case .service = principal { return true }
        return false
    }

    /// An admin, or another service: may see and change everything the
    /// policy lets it reach.
    public var isPrivileged: Bool { isService || isAdmin }

    /// Whether the caller may act on what belongs to `ownerID`.
    public func mayAccess(ownedBy ownerID: String) -> Bool {
        guard !isPrivileged else { return true }
        guard let userID else { return false }
        return userID.lowercased() == ownerID.lowercased()
    }

    /// Throws unless ``mayAccess(ownedBy:)``: UNAUTHENTICATED for an
    /// anonymous caller, else PERMISSION_DENIED with `denial`.
    public func requireAccess(ownedBy ownerID: String, denial: String) throws {
        guard !mayAccess(ownedBy: ownerID) else { return }
        guard userID != nil || isService else { throw Self.notSignedIn }
        throw RPCError(code: .permissionDenied, message: denial)
    }

    /// Throws unless the caller is an admin or a service: UNAUTHENTICATED
    /// for an anonymous caller (logging in may help), PERMISSION_DENIED for
    /// a plain user.
    public func requireAdmin() throws {
        guard !isPrivileged else { return }
        guard userID != nil else { throw Self.notSignedIn }
        throw RPCError(code: .permissionDenied, message: "admins only")
    }

    /// The end user's id, or UNAUTHENTICATED for a call that acts for none.
    public func requireUser() throws -> String {
        guard let userID else { throw Self.notSignedIn }
        return userID
    }

    /// Whose items a listing shows, given the request's `user_id` filter:
    /// any user's (or everyone's, `nil`) for privileged callers, only their
    /// own for users.
    ///
    /// - Parameter noun: what is listed, for the error (`orders`).
    /// - Throws: INVALID_ARGUMENT for a malformed `user_id`, PERMISSION_DENIED
    ///   when a user asks for someone else's, UNAUTHENTICATED for an
    ///   anonymous caller.
    public func listingScope(requested: String, noun: String) throws -> String? {
        let requestedID = requested.isEmpty ? nil : try Validation.id(requested, field: "user_id")
        if isPrivileged { return requestedID }
        let own = try requireUser().lowercased()
        if let requestedID, requestedID != own {
            throw RPCError(code: .permissionDenied, message: "user_id: you may list only your own \(noun)")
        }
        return own
    }

    static let notSignedIn = RPCError(code: .unauthenticated, message: "no signed-in user: this call needs an end user's access token")
}
