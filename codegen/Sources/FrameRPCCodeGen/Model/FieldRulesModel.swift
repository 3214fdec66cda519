import Foundation
import SwiftProtobufPluginLibrary

/// A field's `(shop.api.rules)`, read and checked against the field's type.
/// One model for the three things made from it: the validation function,
/// the registration's check and the OpenAPI constraints.
struct FieldRulesModel: Equatable {
    enum Format: String {
        case uuid, email
    }

    var required = false
    var minLength: UInt32?
    var maxLength: UInt32?
    var minBytes: UInt32?
    var maxBytes: UInt32?
    var pattern: String?
    var format: Format?
    var minimum: Int64?
    var maximum: Int64?
    var minItems: UInt32?
    var maxItems: UInt32?
    var definedOnly = false

    /// The field's rules, or `nil` when it declares none.
    static func of(_ field: FieldDescriptor) -> FieldRulesModel? {
        guard field.options.hasShop_Api_rules else { return nil }
        let rules = field.options.Shop_Api_rules
        var model = FieldRulesModel()
        model.required = rules.required
        if rules.hasMinLength { model.minLength = rules.minLength }
        if rules.hasMaxLength { model.maxLength = rules.maxLength }
        if rules.hasMinBytes { model.minBytes = rules.minBytes }
        if rules.hasMaxBytes { model.maxBytes = rules.maxBytes }
        if !rules.pattern.isEmpty { model.pattern = rules.pattern }
        switch rules.format {
        case .uuid: model.format = .uuid
        case .email: model.format = .email
        default: break
        }
        if rules.hasMinimum { model.minimum = rules.minimum }
        if rules.hasMaximum { model.maximum = rules.maximum }
        if rules.hasMinItems { model.minItems = rules.minItems }
        if rules.hasMaxItems { model.maxItems = rules.maxItems }
        model.definedOnly = rules.definedOnly
        return model
    }

    private var stringRuleNames: [String] {
        var names: [String] = []
        if minLength != nil { names.append("min_length") }
        if maxLength != nil { names.append("max_length") }
        if pattern != nil { names.append("pattern") }
        if format != nil { names.append("format") }
        return names
    }

    private var byteRuleNames: [String] {
        var names: [String] = []
        if minBytes != nil { names.append("min_bytes") }
        if maxBytes != nil { names.append("max_bytes") }
        return names
    }

    private var numberRuleNames: [String] {
        var names: [String] = []
        if minimum != nil { names.append("minimum") }
        if maximum != nil { names.append("maximum") }
        return names
    }

    private var itemRuleNames: [String] {
        var names: [String] = []
        if minItems != nil { names.append("min_items") }
        if maxItems != nil { names.append("max_items") }
        return names
    }

    /// What the field's values (its elements, when repeated) are.
    enum ValueType {
        case string, bytes, integer, double, bool, enumeration, message
    }

    static func valueType(of field: FieldDescriptor) -> ValueType {
        switch field.type {
        case .string: .string
        case .bytes: .bytes
        case .bool: .bool
        case .double, .float: .double
        case .enum: .enumeration
        case .message, .group: .message
        default: .integer
        }
    }

    /// Everything wrong with the field's rules: a rule its type does not
    /// take, bounds the wrong way round, a pattern that does not compile, a
    /// rule that the field's absent value (proto3 reads absence as the zero
    /// value) would break while the field is not required.
    static func problems(with field: FieldDescriptor) -> [String] {
        guard let rules = of(field) else { return [] }
        var problems: [String] = []
        let type = valueType(of: field)
        let typeName = field.isMap ? "map" : (field.isRepeated ? "repeated \(field.type)" : "\(field.type)")
        func refuse(_ names: [String], _ takes: String) {
            for name in names {
                problems.append("rule \(name) does not apply to a \(typeName) field (it takes \(takes))")
            }
        }
        if field.realContainingOneof != nil {
            problems.append("rules on a oneof member are not supported")
        }
        if field.isMap {
            refuse(rules.stringRuleNames + rules.byteRuleNames + rules.numberRuleNames, "min_items, max_items and required")
            if rules.definedOnly { refuse(["defined_only"], "min_items, max_items and required") }
        } else {
            if !field.isRepeated { refuse(rules.itemRuleNames, "repeated fields") }
            if type != .string { refuse(rules.stringRuleNames, "string fields") }
            if type != .string { refuse(rules.byteRuleNames, "string fields") }
            if type != .integer && type != .double { refuse(rules.numberRuleNames, "number fields") }
            if rules.definedOnly && type != .enumeration { refuse(["defined_only"], "enum fields") }
            if rules.required && type == .bool && !field.isRepeated {
                problems.append("rule required does not apply to a bool field (false is a value, not an absence)")
            }
        }
        if let low = rules.minLength, let high = rules.maxLength, low > high { problems.append("min_length \(low) is above max_length \(high)") }
        if let low = rules.minBytes, let high = rules.maxBytes, low > high { problems.append("min_bytes \(low) is above max_bytes \(high)") }
        if let low = rules.minimum, let high = rules.maximum, low > high { problems.append("minimum \(low) is above maximum \(high)") }
        if let low = rules.minItems, let high = rules.maxItems, low > high { problems.append("min_items \(low) is above max_items \(high)") }
        if let characters = rules.maxLength, let bytes = rules.maxBytes, UInt64(bytes) < UInt64(characters) * 4 {
            problems.append("max_bytes \(bytes) is below 4 x max_length \(characters): the document would allow strings the check refuses")
        }
        var compiles = true
        if let pattern = rules.pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
            problems.append("pattern '\(pattern)' is not a valid regular expression")
            compiles = false
        }
        // A singular field without presence reads as its zero value when
        // absent: a rule that value breaks would refuse a request the
        // document allows (the field is not in `required`).
        if !field.isRepeated, !field.hasPresence, !rules.required, problems.isEmpty {
            var breaks: [String] = []
            if type == .string || type == .bytes {
                if (rules.minLength ?? 0) > 0 { breaks.append("min_length") }
                if (rules.minBytes ?? 0) > 0 { breaks.append("min_bytes") }
                if rules.format != nil { breaks.append("format") }
                if compiles, let pattern = rules.pattern, !Self.matches("", pattern) { breaks.append("pattern") }
            }
            if type == .integer || type == .double {
                if let minimum = rules.minimum, minimum > 0 { breaks.append("minimum") }
                if let maximum = rules.maximum, maximum < 0 { breaks.append("maximum") }
            }
            if rules.definedOnly { breaks.append("defined_only") }
            for name in breaks {
                problems.append("rule \(name) refuses the field's zero value, which is what an absent field reads as: mark it required, make the field optional, or allow the zero value")
            }
        }
        if field.isRepeated, !rules.required, (rules.minItems ?? 0) > 0, problems.isEmpty {
            problems.append("rule min_items refuses an empty list, which is what an absent field reads as: mark it required")
        }
        if rules.required, !field.isRepeated, type == .integer || type == .double,
           !((rules.minimum ?? 0) > 0 || (rules.maximum ?? 0) < 0) {
            problems.append("rule required on a number needs a minimum above 0 or a maximum below 0, so that the document, too, refuses 0")
        }
        return problems
    }

    private static func matches(_ value: String, _ pattern: String) -> Bool {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return false }
        return expression.firstMatch(in: value, range: NSRange(location: 0, length: 0)) != nil
    }
}
