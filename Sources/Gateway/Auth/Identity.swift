import FrameRPC
import ShopAuth

/// Who a request acts for, as its verified token says.
public struct Identity: Sendable, Hashable {
    /// The metadata keys services read it from (ServiceSupport's `Caller`).
    public static let userIDKey = "x-user-id"
    public static let roleKey = "x-user-role"

    public let userID: String
    public let role: AccessTokenClaims.Role

    public init(userID: String, role: AccessTokenClaims.Role) {
        self.userID = userID
        self.role = role
    }

    public init(_ claims: AccessTokenClaims) {
        self.init(userID: claims.userID, role: claims.role)
    }

    public var isAdmin: Bool { role == .admin }

    /// Adds `x-user-id` and `x-user-role` (`user` or `admin`) to `metadata`.
    func write(to metadata: inout Metadata) {
        metadata[Self.userIDKey] = userID
        metadata[Self.roleKey] = role.rawValue
    }
}
