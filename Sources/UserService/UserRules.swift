import Foundation
import ShopAPI
import ServiceSupport

/// The user service's own handling of account fields. Their limits (the
/// password's 8 to 1,024 characters and 4,096 bytes, the full name's 200
/// characters) are `(shop.api.rules)` in user.proto, checked by the
/// generated registration; the constants remain for login and settings.
enum UserRules {
    static let minimumPasswordLength = 8
    /// Long enough for any passphrase; bounds the work and memory a request
    /// can ask of the hasher.
    static let maximumPasswordLength = 1024
    static let maximumFullNameLength = 200

    /// The most UTF-8 bytes a password may have: what the hasher is given.
    static let maximumPasswordBytes = maximumPasswordLength * Validation.bytesPerCharacter

    /// A trimmed full name; the rules (required, at most 200 characters,
    /// something besides white space) are checked before any handler runs.
    static func fullName(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The role an admin sets: user or admin, nothing else.
    static func role(_ value: Shop_User_V1_Role, field: String = "role") throws -> UserRole {
        guard let role = UserRole(value) else {
            throw Validation.invalid(field, "must be ROLE_USER or ROLE_ADMIN")
        }
        return role
    }
}
