import FrameRPC
import Foundation

/// Caller mistakes as INVALID_ARGUMENT naming the field, so the gateway can
/// answer 422 with a message the client can act on.
public enum Validation {
    public static func invalid(_ field: String, _ reason: String) -> RPCError {
        RPCError(code: .invalidArgument, message: "\(field): \(reason)")
    }

    /// UTF-8 bytes allowed per character of a length limit: four, the
    /// longest UTF-8 encoding of one scalar, so that no ordinary text of
    /// `maxLength` characters is refused for its bytes.
    public static let bytesPerCharacter = 4

    /// Checks that `value` is at most `maxLength` characters and at most
    /// `maxBytes` bytes of UTF-8 (default: ``bytesPerCharacter`` per
    /// character).
    ///
    /// Why both: `String.count` counts grapheme clusters, and one cluster
    /// can be any number of scalars (a letter followed by 480,000 combining
    /// accents is one character of about a megabyte). The byte limit bounds
    /// what is stored and what later work on the text costs; it is checked
    /// first, because it is cheap and counting clusters of a huge one is not.
    public static func checkLength(_ value: some StringProtocol, field: String, maxLength: Int, maxBytes: Int? = nil) throws {
        let byteLimit = maxBytes ?? maxLength * bytesPerCharacter
        guard value.utf8.count <= byteLimit, value.count <= maxLength else {
            throw invalid(field, "must be at most \(maxLength) characters (and \(byteLimit) bytes of UTF-8)")
        }
    }

    /// A trimmed, non-empty string of at most `maxLength` characters (and
    /// `maxLength` × ``bytesPerCharacter`` bytes of UTF-8).
    public static func requiredText(_ value: String, field: String, maxLength: Int = 200) throws -> String {
        // Bytes first: trimming walks the text too.
        guard value.utf8.count <= maxLength * bytesPerCharacter + 4096 else {
            throw invalid(field, "must be at most \(maxLength) characters (and \(maxLength * bytesPerCharacter) bytes of UTF-8)")
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw invalid(field, "must not be empty") }
        try checkLength(trimmed, field: field, maxLength: maxLength)
        return trimmed
    }

    /// A lower-cased UUID, or INVALID_ARGUMENT.
    public static func id(_ value: String, field: String) throws -> String {
        guard let uuid = UUID(uuidString: value) else { throw invalid(field, "must be a UUID") }
        return uuid.uuidString.lowercased()
    }

    /// A new random id.
    public static func newID() -> String { UUID().uuidString.lowercased() }
}

/// `skip`/`limit` with the API's defaults (0 and 100) and cap (1000).
public struct Page: Sendable, Hashable {
    public static let defaultLimit = 100
    public static let maximumLimit = 1000

    public let skip: Int
    public let limit: Int

    public init(skip: Int32, limit: Int32) throws {
        guard skip >= 0 else { throw Validation.invalid("skip", "must be 0 or more") }
        guard limit >= 0 else { throw Validation.invalid("limit", "must be 0 or more") }
        guard limit <= Self.maximumLimit else { throw Validation.invalid("limit", "must be at most \(Self.maximumLimit)") }
        self.skip = Int(skip)
        self.limit = limit == 0 ? Self.defaultLimit : Int(limit)
    }
}
