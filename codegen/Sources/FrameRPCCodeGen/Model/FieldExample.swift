import SwiftProtobufPluginLibrary

/// A field's `(shop.api.example)`: a JSON literal in the REST form, checked
/// against the field's type so the document never shows an example the
/// gateway would refuse.
enum FieldExample {
    /// The parsed example, or `nil` when there is none or it is malformed
    /// (``problem(with:)`` reports that).
    static func value(of field: FieldDescriptor) -> JSONValue? {
        guard field.options.hasShop_Api_example else { return nil }
        return try? JSONValue.parse(field.options.Shop_Api_example)
    }

    /// What is wrong with the field's example, if anything.
    static func problem(with field: FieldDescriptor) -> String? {
        guard field.options.hasShop_Api_example else { return nil }
        let value: JSONValue
        do {
            value = try JSONValue.parse(field.options.Shop_Api_example)
        } catch {
            return "example '\(field.options.Shop_Api_example)' is \(error)"
        }
        if field.isMap {
            if case .object = value { return nil }
            return "example of a map field must be a JSON object"
        }
        if field.isRepeated {
            guard case .array(let items) = value else { return "example of a repeated field must be a JSON array" }
            return items.lazy.compactMap { mismatch($0, field) }.first
        }
        return mismatch(value, field)
    }

    private static func mismatch(_ value: JSONValue, _ field: FieldDescriptor) -> String? {
        let expected: String
        switch field.type {
        case .string, .bytes:
            if case .string = value { return nil }
            expected = "a JSON string"
        case .bool:
            if case .bool = value { return nil }
            expected = "true or false"
        case .int32, .sint32, .sfixed32, .uint32, .fixed32, .int64, .sint64, .sfixed64, .uint64, .fixed64:
            if case .integer = value { return nil }
            if field.options.Shop_Api_money, case .decimal(let text) = value {
                let fraction = text.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first ?? ""
                if !text.contains("e"), !text.contains("E"), fraction.count <= 2 { return nil }
                expected = "a decimal with at most two places"
            } else {
                expected = field.options.Shop_Api_money ? "a decimal with at most two places" : "a JSON integer"
            }
        case .double, .float:
            switch value {
            case .integer, .decimal, .number: return nil
            default: expected = "a JSON number"
            }
        case .enum:
            let kind = ScalarKind.enumeration(field.enumType)
            if case .enumeration(_, _, let values) = kind, case .string(let name) = value,
               values.contains(name), name != "unspecified" {
                return nil
            }
            if case .enumeration(_, _, let values) = kind {
                expected = "one of " + values.filter { $0 != "unspecified" }.map { "\"\($0)\"" }.joined(separator: ", ")
            } else {
                expected = "an enum value name"
            }
        case .message, .group:
            if field.messageType.wellKnownType == .timestamp {
                if case .string = value { return nil }
                expected = "an RFC 3339 string"
            } else {
                if case .object = value { return nil }
                expected = "a JSON object"
            }
        }
        return "example '\(field.options.Shop_Api_example)' of a \(field.type) field must be \(expected)"
    }
}
