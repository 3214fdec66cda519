import Foundation
import ServiceSupport

/// An email address as the service stores it: trimmed, lower-cased and in
/// Unicode normalization form C, so that uniqueness (a UNIQUE index on the
/// stored value, which compares bytes) is case-insensitive and cannot be
/// dodged by writing `é` as `e` plus a combining accent.
///
/// The check is deliberately practical rather than full RFC 5322: one `@`;
/// a local part of at most 64 characters, without spaces, control characters
/// or `"(),:;<>[\]`, not starting, ending or doubling a dot; a domain of at
/// least two dot-separated labels of letters, digits and inner hyphens, the
/// last of at least two letters; at most 254 characters in all. The lengths
/// are bounded in UTF-8 bytes as well (64, 63 and 254, RFC 5321's octets).
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

    private static let forbiddenInLocalPart = Set("\"(),:;<>[\\]@")

    private static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64, !local.hasPrefix("."), !local.hasSuffix("."),
              !local.contains(".."),
              local.allSatisfy({ !$0.isWhitespace && !forbiddenInLocalPart.contains($0) && !isControl($0) }) else {
            return false
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.allSatisfy({ $0 == "-" || $0.isLetter || $0.isNumber }) else {
                return false
            }
        }
        guard let topLevel = labels.last, topLevel.count >= 2, topLevel.allSatisfy(\.isLetter) else { return false }
        return true
    }

    private static func isControl(_ character: Character) -> Bool {
        character.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
