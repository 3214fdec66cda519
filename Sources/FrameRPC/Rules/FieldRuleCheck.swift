import Foundation
import Synchronization

/// The checks generated validation code calls for `(shop.api.rules)`, one
/// definition each, so the gateway, the services and the OpenAPI document
/// agree on what a UUID, an email address or a character is.
public enum FieldRuleCheck {
    /// Length in characters as JSON Schema counts them: Unicode scalars.
    /// (`String.count` counts grapheme clusters, which a fuzzer following
    /// the document's `maxLength` does not.)
    @inlinable
    public static func characters(_ value: String) -> Int {
        value.unicodeScalars.count
    }

    /// A UUID in its 36-character hyphenated form, any case.
    public static func isUUID(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isHex = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
                guard isHex else { return false }
            }
        }
        return true
    }

    private static let forbiddenInLocalPart: Set<Unicode.Scalar> = Set("\"(),:;<>[\\]@".unicodeScalars)

    /// `local@domain`, deliberately practical rather than full RFC 5322: a
    /// local part of 1 to 64 bytes without spaces, control characters or
    /// `"(),:;<>[\]@`, not starting, ending or doubling a dot; a domain of
    /// two or more labels of 1 to 63 bytes, letters, digits and inner
    /// hyphens, the last of at least two characters and not all digits; at
    /// most 254 bytes in all.
    public static func isEmail(_ value: String) -> Bool {
        guard value.utf8.count <= 254 else { return false }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64, !local.hasPrefix("."), !local.hasSuffix("."),
              !local.contains(".."),
              local.unicodeScalars.allSatisfy({ scalar in
                  !scalar.properties.isWhitespace && !forbiddenInLocalPart.contains(scalar)
                      && scalar.properties.generalCategory != .control
              }) else {
            return false
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                  label.unicodeScalars.allSatisfy({ $0 == "-" || $0.properties.isAlphabetic || $0.properties.numericType == .decimal }) else {
                return false
            }
        }
        guard let last = labels.last, last.unicodeScalars.count >= 2,
              !last.unicodeScalars.allSatisfy({ $0.properties.numericType == .decimal }) else { return false }
        return true
    }

    /// Compiled patterns, by source: a message type's few patterns are
    /// compiled once, on first use.
    private static let patterns = Mutex<[String: CompiledPattern]>([:])

    /// A compiled pattern, shared between threads: NSRegularExpression is
    /// immutable and documented thread-safe.
    private struct CompiledPattern: @unchecked Sendable {
        let expression: NSRegularExpression
    }

    /// Whether `pattern` (ICU syntax, as JSON Schema's `pattern`: matching
    /// anywhere unless anchored) matches `value`. A pattern that does not
    /// compile matches nothing; the generator refuses such patterns.
    public static func matches(_ value: String, pattern: String) -> Bool {
        let compiled = patterns.withLock { cache -> CompiledPattern? in
            if let existing = cache[pattern] { return existing }
            guard let made = try? NSRegularExpression(pattern: pattern) else { return nil }
            cache[pattern] = CompiledPattern(expression: made)
            return cache[pattern]
        }
        guard let compiled = compiled?.expression else { return false }
        let range = NSRange(value.startIndex..<value.endIndex, in: value)
        return compiled.firstMatch(in: value, options: [], range: range) != nil
    }
}
