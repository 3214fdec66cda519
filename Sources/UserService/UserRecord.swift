import Foundation
import GRDB
import ShopAPI
import SwiftProtobuf

/// One row of the `users` table.
///
/// `seq` (the integer primary key) orders users by creation for listing,
/// independent of the wall clock; `id` is the public UUID. `email` is stored
/// normalized (lower-case), so its UNIQUE index makes emails unique
/// case-insensitively, even between concurrent registrations. `created_at`
/// is whole milliseconds since 1970, so what a create returns is exactly what
/// later reads return. `token_version` is carried in every access token
/// issued for the user; raising it makes every older token invalid
/// (``revokeTokens(ifChangedFrom:passwordChanged:)``).
struct UserRecord: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "users"

    var seq: Int64?
    var id: String
    var email: String
    var fullName: String
    /// `pbkdf2-sha256$<rounds>$<salt>$<hash>` (see ``PasswordHasher``).
    var passwordHash: String
    var isActive: Bool
    var role: UserRole
    var createdAt: Int64
    var tokenVersion: Int64 = 0

    enum CodingKeys: String, CodingKey, ColumnExpression {
        case seq
        case id
        case email
        case fullName = "full_name"
        case passwordHash = "password_hash"
        case isActive = "is_active"
        case role
        case createdAt = "created_at"
        case tokenVersion = "token_version"
    }

    /// Raises the token version when this record differs from `before` in
    /// what a token stands for: deactivation (or reactivation), a role
    /// change, or a password change the holder or an admin asked for. A
    /// re-hash of the same password (more rounds) is no change.
    mutating func revokeTokens(ifChangedFrom before: UserRecord, passwordChanged: Bool) {
        if passwordChanged || isActive != before.isActive || role != before.role {
            tokenVersion = before.tokenVersion + 1
        }
    }

    /// What decides whether the user's tokens are still good.
    var accountStatus: Shop_User_V1_AccountStatus {
        Shop_User_V1_AccountStatus.with {
            $0.id = id
            $0.isActive = isActive
            $0.role = role.proto
            $0.tokenVersion = tokenVersion
        }
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }

    /// Now, in whole milliseconds since 1970.
    static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The API's view: everything but the password hash.
    var proto: Shop_User_V1_User {
        Shop_User_V1_User.with {
            $0.id = id
            $0.email = email
            $0.fullName = fullName
            $0.isActive = isActive
            $0.role = role.proto
            $0.createdAt = Google_Protobuf_Timestamp(
                seconds: createdAt / 1000,
                nanos: Int32(createdAt % 1000) * 1_000_000
            )
        }
    }
}
