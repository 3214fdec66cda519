import Foundation
import FrameRPC
import ServiceSupport

/// An email address as the service stores it: trimmed, lower-cased and in
/// Unicode normalization form C, so that uniqueness (a UNIQUE index on the
/// stored value, which compares bytes) is case-insensitive and cannot be
/// dodged by writing `é` as `e` plus a combining accent.
///
/// The check is `FieldRuleCheck.isEmail`, the `format: EMAIL` rule of
/// user.proto (deliberately practical rather than full RFC 5322), applied to
/// the normalized address.
struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    let value: String

    var description: String { value }

    /// The normalized address, or INVALID_ARGUMENT naming `field`.
    init(validating raw: String, field: String = "email") throws {
        let normalized = Self.normalize(raw)
        guard !normalized.isEmpty else { throw Validation.invalid(field, "must not be empty") }
        guard normalized.utf8.count <= 254, Self.isValid(normalized) else {
            throw Validation.invalid(field, "is not a valid email address")
        }
        value = normalized
    }

    /// Trimmed, lower-cased and NFC, without validation: how a login's
    /// address is compared with the stored ones. Input longer than any
    /// address is cut before the work (it can never match one).
    static func normalize(_ raw: String) -> String {
        let bounded = raw.utf8.count > 4096 ? String(decoding: raw.utf8.prefix(4096), as: UTF8.self) : raw
        return bounded.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().precomposedStringWithCanonicalMapping
    }

    /// The rules' `format: EMAIL`, one definition for the document, the
    /// gateway and this service.
    private static func isValid(_ address: String) -> Bool {
        FieldRuleCheck.isEmail(address)
    }
}
