import FrameRPC

/// Who a call acts for, from the metadata the gateway sets after verifying
/// the caller's token (`x-user-id`, `x-user-role`).
///
/// Services behind the gateway trust these keys: only the gateway is
/// reachable from outside. A call without them comes from another service
/// or an operator and acts with full rights (``isInternal``).
public struct Caller: Sendable, Hashable {
    public static let userIDKey = "x-user-id"
    public static let roleKey = "x-user-role"

    public let userID: String?
    public let isAdmin: Bool

    /// No user: a service-to-service call.
    public var isInternal: Bool { userID == nil }

    /// The caller of the call being served.
    public init(_ context: ServerContext) {
        userID = context.metadata[Self.userIDKey].flatMap { $0.isEmpty ? nil : $0 }
        isAdmin = userID != nil && context.metadata[Self.roleKey] == "admin"
    }

    /// Whether the caller may act on what belongs to `ownerID`.
    public func mayAccess(ownedBy ownerID: String) -> Bool {
        isInternal || isAdmin || userID == ownerID
    }

    /// Throws PERMISSION_DENIED unless the caller is an admin or internal.
    public func requireAdmin() throws {
        guard isInternal || isAdmin else {
            throw RPCError(code: .permissionDenied, message: "admins only")
        }
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
