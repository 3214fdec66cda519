import FrameRPC
import Foundation

/// Caller mistakes as INVALID_ARGUMENT naming the field, so the gateway can
/// answer 422 with a message the client can act on.
public enum Validation {
    public static func invalid(_ field: String, _ reason: String) -> RPCError {
        RPCError(code: .invalidArgument, message: "\(field): \(reason)")
    }

    /// A trimmed, non-empty string of at most `maxLength` characters.
    public static func requiredText(_ value: String, field: String, maxLength: Int = 200) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw invalid(field, "must not be empty") }
        guard trimmed.count <= maxLength else { throw invalid(field, "must be at most \(maxLength) characters") }
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
