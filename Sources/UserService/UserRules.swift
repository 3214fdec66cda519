import ShopAPI
import ServiceSupport

/// The service's rules for the fields a caller sends, each failing with
/// INVALID_ARGUMENT naming the field.
enum UserRules {
    static let minimumPasswordLength = 8
    /// Long enough for any passphrase; bounds the work and memory a request
    /// can ask of the hasher.
    static let maximumPasswordLength = 1024
    static let maximumFullNameLength = 200

    /// The most UTF-8 bytes a password may have: what the hasher is given.
    static let maximumPasswordBytes = maximumPasswordLength * Validation.bytesPerCharacter

    /// A password to hash: at least 8 and at most 1024 characters (and
    /// 4096 bytes of UTF-8), taken as it is (never trimmed).
    static func password(_ value: String, field: String = "password") throws -> String {
        try Validation.checkLength(value, field: field, maxLength: maximumPasswordLength, maxBytes: maximumPasswordBytes)
        guard value.count >= minimumPasswordLength else {
            throw Validation.invalid(field, "must be at least \(minimumPasswordLength) characters")
        }
        return value
    }

    /// A trimmed, non-empty full name.
    static func fullName(_ value: String, field: String = "full_name") throws -> String {
        try Validation.requiredText(value, field: field, maxLength: maximumFullNameLength)
    }

    /// The role an admin sets: user or admin, nothing else.
    static func role(_ value: Shop_User_V1_Role, field: String = "role") throws -> UserRole {
        guard let role = UserRole(value) else {
            throw Validation.invalid(field, "must be ROLE_USER or ROLE_ADMIN")
        }
        return role
    }
}
