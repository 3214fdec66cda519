import FrameRPC

/// Who a call acts for, from the metadata the gateway sets after verifying
/// the caller's token (`x-user-id`, `x-user-role`).
///
/// Services behind the gateway trust these keys: only the gateway is
/// reachable from outside. A call with neither comes from another service
/// or an operator and acts with full rights (``isInternal``). A call with a
/// role but no user is a broken identity: it is neither internal nor any
/// user, so it may access nothing that belongs to someone.
public struct Caller: Sendable, Hashable {
    public static let userIDKey = "x-user-id"
    public static let roleKey = "x-user-role"

    public let userID: String?
    public let isAdmin: Bool
    /// A service-to-service call: no user and no role.
    public let isInternal: Bool

    /// An admin, or another service: may see and change everything.
    public var isPrivileged: Bool { isInternal || isAdmin }

    /// The caller of the call being served.
    public init(_ context: ServerContext) {
        userID = context.metadata[Self.userIDKey].flatMap { $0.isEmpty ? nil : $0 }
        isAdmin = userID != nil && context.metadata[Self.roleKey] == "admin"
        isInternal = userID == nil && context.metadata[Self.roleKey] == nil
    }

    /// Whether the caller may act on what belongs to `ownerID`.
    public func mayAccess(ownedBy ownerID: String) -> Bool {
        isPrivileged || userID == ownerID
    }

    /// Throws PERMISSION_DENIED unless the caller is an admin or internal.
    public func requireAdmin() throws {
        guard isPrivileged else {
            throw RPCError(code: .permissionDenied, message: "admins only")
        }
    }

    /// Whose items a listing shows, given the request's `user_id` filter:
    /// any user's (or everyone's, `nil`) for privileged callers, only their
    /// own for users.
    ///
    /// - Parameter noun: what is listed, for the error (`orders`).
    /// - Throws: INVALID_ARGUMENT for a malformed `user_id`, PERMISSION_DENIED
    ///   when a user asks for someone else's, UNAUTHENTICATED for a role
    ///   without a user.
    public func listingScope(requested: String, noun: String) throws -> String? {
        let requestedID = requested.isEmpty ? nil : try Validation.id(requested, field: "user_id")
        if isPrivileged { return requestedID }
        guard let own = userID?.lowercased() else {
            throw RPCError(code: .unauthenticated, message: "the call names a role but no user")
        }
        if let requestedID, requestedID != own {
            throw RPCError(code: .permissionDenied, message: "user_id: you may list only your own \(noun)")
        }
        return own
    }

    /// Metadata that makes an outgoing call act for this caller.
    public var metadata: Metadata {
        var metadata = Metadata()
        if let userID {
            metadata[Self.userIDKey] = userID
            metadata[Self.roleKey] = isAdmin ? "admin" : "user"
        }
        return metadata
    }
}
