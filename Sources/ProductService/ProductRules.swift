import Foundation
import ServiceSupport

/// The catalog's rules for what a product may hold. Every rule throws
/// INVALID_ARGUMENT naming the field, so the gateway can answer 422 with a
/// message the client can act on.
enum ProductRules {
    static let maximumNameLength = 200
    static let maximumDescriptionLength = 5_000
    static let maximumCategoryLength = 100
    /// The highest price, in cents (one billion of the currency). Far above
    /// any real price, and low enough that an order total (price times an
    /// `int32` quantity, summed over items) cannot overflow 64 bits.
    static let maximumPrice: Int64 = 100_000_000_000
    /// The most ids one `BatchGetProducts` may ask for.
    static let maximumBatchSize = 1_000

    /// Required, trimmed, at most 200 characters.
    static func name(_ value: String) throws -> String {
        try Validation.requiredText(value, field: "name", maxLength: maximumNameLength)
    }

    /// Optional free text, kept as given (line breaks are content).
    static func description(_ value: String) throws -> String {
        try Validation.checkLength(value, field: "description", maxLength: maximumDescriptionLength)
        return value
    }

    /// Integer cents, 0 (free) or more.
    static func price(_ value: Int64) throws -> Int64 {
        guard value >= 0 else { throw Validation.invalid("price", "must be 0 or more") }
        guard value <= maximumPrice else { throw Validation.invalid("price", "must be at most \(maximumPrice) cents") }
        return value
    }

    /// Optional, trimmed; empty means "no category".
    static func category(_ value: String) throws -> String {
        try Validation.checkLength(value, field: "category", maxLength: maximumCategoryLength, maxBytes: maximumCategoryLength * Validation.bytesPerCharacter + 4096)
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        try Validation.checkLength(trimmed, field: "category", maxLength: maximumCategoryLength)
        return trimmed
    }
}
