/// The rules of one string field, as the generated validation code passes
/// them to ``FieldRuleCheck``.
public struct StringRules: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable {
        case uuid, email
    }

    public var required: Bool
    public var minLength: Int?
    public var maxLength: Int?
    public var minBytes: Int?
    public var maxBytes: Int?
    public var pattern: String?
    public var format: Format?

    public init(required: Bool = false, minLength: Int? = nil, maxLength: Int? = nil, minBytes: Int? = nil, maxBytes: Int? = nil, pattern: String? = nil, format: Format? = nil) {
        self.required = required
        self.minLength = minLength
        self.maxLength = maxLength
        self.minBytes = minBytes
        self.maxBytes = maxBytes
        self.pattern = pattern
        self.format = format
    }
}

/// The rules of one integer, money or double field. Bounds are in the
/// field's own unit (cents for money).
public struct NumberRules: Sendable, Hashable {
    public var required: Bool
    public var minimum: Int64?
    public var maximum: Int64?
    /// Money: bounds are shown as decimals (`1000000000.00`).
    public var money: Bool

    public init(required: Bool = false, minimum: Int64? = nil, maximum: Int64? = nil, money: Bool = false) {
        self.required = required
        self.minimum = minimum
        self.maximum = maximum
        self.money = money
    }
}

extension FieldRuleCheck {
    /// A string field's rules: `required` alone when it is required and
    /// empty; otherwise its length in bytes (cheap, and bounding what the
    /// rest costs), in characters, its pattern and its format.
    public static func check(_ value: String, _ rules: StringRules, field: @autoclosure () -> String, into violations: inout [FieldViolation]) {
        if value.isEmpty && rules.required {
            violations.append(FieldViolation(field: field(), rule: "required", message: "is required"))
            return
        }
        let bytes = value.utf8.count
        if let maxBytes = rules.maxBytes, bytes > maxBytes {
            violations.append(FieldViolation(field: field(), rule: "max_bytes", message: "must be at most \(maxBytes) bytes of UTF-8"))
            return
        }
        if let minBytes = rules.minBytes, bytes < minBytes {
            violations.append(FieldViolation(field: field(), rule: "min_bytes", message: "must be at least \(minBytes) bytes of UTF-8"))
        }
        if rules.minLength != nil || rules.maxLength != nil {
            let count = characters(value)
            if let maxLength = rules.maxLength, count > maxLength {
                violations.append(FieldViolation(field: field(), rule: "max_length", message: "must be at most \(maxLength) characters"))
                return
            }
            if let minLength = rules.minLength, count < minLength {
                violations.append(FieldViolation(field: field(), rule: "min_length", message: "must be at least \(minLength) characters"))
            }
        }
        if let pattern = rules.pattern, !matches(value, pattern: pattern) {
            violations.append(FieldViolation(field: field(), rule: "pattern", message: "must match \(pattern)"))
        }
        switch rules.format {
        case .uuid?:
            if !isUUID(value) { violations.append(FieldViolation(field: field(), rule: "format", message: "must be a UUID")) }
        case .email?:
            if !isEmail(value) { violations.append(FieldViolation(field: field(), rule: "format", message: "must be an email address")) }
        case nil:
            break
        }
    }

    /// An integer or money field's rules.
    public static func check(_ value: Int64, _ rules: NumberRules, field: @autoclosure () -> String, into violations: inout [FieldViolation]) {
        if value == 0 && rules.required {
            violations.append(FieldViolation(field: field(), rule: "required", message: "is required"))
            return
        }
        if let minimum = rules.minimum, value < minimum {
            violations.append(FieldViolation(field: field(), rule: "minimum", message: "must be at least \(shown(minimum, rules))"))
        }
        if let maximum = rules.maximum, value > maximum {
            violations.append(FieldViolation(field: field(), rule: "maximum", message: "must be at most \(shown(maximum, rules))"))
        }
    }

    /// A double field's rules.
    public static func check(_ value: Double, _ rules: NumberRules, field: @autoclosure () -> String, into violations: inout [FieldViolation]) {
        if value == 0 && rules.required {
            violations.append(FieldViolation(field: field(), rule: "required", message: "is required"))
            return
        }
        if let minimum = rules.minimum, !(value >= Double(minimum)) {
            violations.append(FieldViolation(field: field(), rule: "minimum", message: "must be at least \(minimum)"))
        }
        if let maximum = rules.maximum, !(value <= Double(maximum)) {
            violations.append(FieldViolation(field: field(), rule: "maximum", message: "must be at most \(maximum)"))
        }
    }

    /// An enum field's rules, on its raw number: `required` (not the zero
    /// value) and `defined_only` (one of `defined`, the declared non-zero
    /// values).
    public static func checkEnum(_ raw: Int, defined: [Int], required: Bool, definedOnly: Bool, field: @autoclosure () -> String, into violations: inout [FieldViolation]) {
        if raw == 0 && required {
            violations.append(FieldViolation(field: field(), rule: "required", message: "is required"))
            return
        }
        if definedOnly && !defined.contains(raw) {
            violations.append(FieldViolation(field: field(), rule: "defined_only", message: "must be one of the enum's defined values"))
        }
    }

    /// A repeated or map field's element count.
    public static func checkCount(_ count: Int, required: Bool, minItems: Int?, maxItems: Int?, field: @autoclosure () -> String, into violations: inout [FieldViolation]) {
        if count == 0 && required {
            violations.append(FieldViolation(field: field(), rule: "required", message: "is required"))
            return
        }
        if let minItems, count < minItems {
            violations.append(FieldViolation(field: field(), rule: "min_items", message: "must have at least \(minItems) items"))
        }
        if let maxItems, count > maxItems {
            violations.append(FieldViolation(field: field(), rule: "max_items", message: "must have at most \(maxItems) items"))
        }
    }

    /// A message field or `optional` field that is required and absent.
    public static func missing(field: @autoclosure () -> String, into violations: inout [FieldViolation]) {
        violations.append(FieldViolation(field: field(), rule: "required", message: "is required"))
    }

    private static func shown(_ bound: Int64, _ rules: NumberRules) -> String {
        guard rules.money else { return String(bound) }
        let magnitude = bound.magnitude
        let fraction = magnitude % 100
        return "\(bound < 0 ? "-" : "")\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
