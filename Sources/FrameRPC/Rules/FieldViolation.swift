/// One field that broke one of its `(shop.api.rules)`: where, which rule,
/// and a message for humans. Generated validation functions return these.
public struct FieldViolation: Sendable, Hashable, CustomStringConvertible {
    /// The field's path in the message: `name`, `items[0].quantity`.
    public let field: String
    /// The rule's name as in `FieldRules`: `required`, `max_length`,
    /// `format`, `minimum`, `min_items`, `defined_only`...
    public let rule: String
    /// What the field must be, for humans: "must be at least 1".
    public let message: String

    public init(field: String, rule: String, message: String) {
        self.field = field
        self.rule = rule
        self.message = message
    }

    /// `items[0].quantity: must be at least 1 (minimum)`.
    public var description: String { "\(field): \(message) (\(rule))" }
}

/// A request that broke its rules, with every failing field (not just the
/// first). The gateway answers it with 422 and the list; a service answers
/// it with INVALID_ARGUMENT (``rpcError``).
public struct RuleViolations: Error, Sendable, Hashable, CustomStringConvertible {
    public let violations: [FieldViolation]

    public init(_ violations: [FieldViolation]) {
        self.violations = violations
    }

    /// Every violation, `; `-separated.
    public var description: String { violations.map(\.description).joined(separator: "; ") }

    /// INVALID_ARGUMENT naming each field path and rule.
    public var rpcError: RPCError { RPCError(code: .invalidArgument, message: description) }
}
