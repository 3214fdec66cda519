import GRDB
import ShopAPI
import ShopAuth

/// What a user may do: stored as `user` or `admin`, the same words the
/// tokens carry.
enum UserRole: String, Sendable, Hashable, Codable, DatabaseValueConvertible {
    case user
    case admin

    /// `nil` for ROLE_UNSPECIFIED and unknown numbers.
    init?(_ role: Shop_User_V1_Role) {
        switch role {
        case .user: self = .user
        case .admin: self = .admin
        default: return nil
        }
    }

    var proto: Shop_User_V1_Role {
        switch self {
        case .user: .user
        case .admin: .admin
        }
    }

    var tokenRole: AccessTokenClaims.Role {
        switch self {
        case .user: .user
        case .admin: .admin
        }
    }
}
