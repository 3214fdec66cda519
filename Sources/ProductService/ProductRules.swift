import Foundation

/// How the catalog stores what a product holds. The limits themselves
/// (name required and at most 200 characters, description at most 5,000,
/// category at most 100, price 0 to 1,000,000,000.00, at most 1,000 ids a
/// batch) are `(shop.api.rules)` in product.proto, checked by the generated
/// registration before any handler runs; what is left here is normalizing.
enum ProductRules {
    /// Trimmed; the rules guarantee something besides white space.
    static func name(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Free text, kept as given (line breaks are content).
    static func description(_ value: String) -> String {
        value
    }

    /// Trimmed; empty means "no category".
    static func category(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
