import SwiftProtobufPluginLibrary

/// Renders, per `.proto` file, the validation function of every message
/// that has `(shop.api.rules)` (or holds a message that has some): a
/// `RuleChecked` conformance whose `collectRuleViolations(at:into:)` checks
/// each rule in field order and descends into nested messages, naming each
/// failing field by its path (`items[0].quantity`).
struct ValidationRenderer {
    let visibility: String
    let importFrameRPC: Bool
    private let namer = SwiftProtobufNamer()

    init(visibility: String, importFrameRPC: Bool) {
        self.visibility = visibility
        self.importFrameRPC = importFrameRPC
    }

    /// The file's validation code, or `nil` when none of its messages has rules.
    func render(file: FileDescriptor, checked: RuleCheckedMessages) -> String? {
        let messages = Self.allMessages(file.messages).filter { checked.contains($0) }
        guard !messages.isEmpty else { return nil }
        var out = SwiftWriter()
        if importFrameRPC {
            out.line("import FrameRPC")
            out.line()
        }
        for (index, message) in messages.enumerated() {
            if index > 0 { out.line() }
            render(message, checked: checked, into: &out)
        }
        return SwiftWriter.header(source: file.name) + "\n" + out.text
    }

    static func allMessages(_ messages: [Descriptor]) -> [Descriptor] {
        messages.flatMap { message in
            message.options.mapEntry ? [] : [message] + allMessages(message.messages)
        }
    }

    private func render(_ message: Descriptor, checked: RuleCheckedMessages, into out: inout SwiftWriter) {
        out.line("/// The `(shop.api.rules)` of `\(message.fullName)`.")
        out.block("extension \(namer.fullName(message: message)): RuleChecked") { out in
            out.block("\(visibility) func collectRuleViolations(at path: String, into violations: inout [FieldViolation])") { out in
                for field in message.fields {
                    render(field, checked: checked, into: &out)
                }
            }
        }
    }

    private func render(_ field: FieldDescriptor, checked: RuleCheckedMessages, into out: inout SwiftWriter) {
        let rules = FieldRulesModel.of(field)
        let nestedChecked = field.type == .message && !field.isMap && checked.contains(field.messageType)
        guard rules != nil || nestedChecked else { return }
        let rule = rules ?? FieldRulesModel()
        let names = namer.messagePropertyNames(field: field, prefixed: "_", includeHasAndClear: true)
        let property = "self.\(names.name)"
        let fieldPath = "path + \(field.name.swiftLiteral)"
        out.line("// \(field.name)")

        if field.isMap || field.isRepeated {
            if rule.required || rule.minItems != nil || rule.maxItems != nil {
                out.line("FieldRuleCheck.checkCount(\(property).count, required: \(rule.required), minItems: \(optional(rule.minItems)), maxItems: \(optional(rule.maxItems)), field: \(fieldPath), into: &violations)")
            }
            guard !field.isMap else { return }
            var element = rule
            element.required = false
            let elementPath = "path + \"\(field.name)[\\(index)]\""
            if nestedChecked {
                out.block("for (index, element) in \(property).enumerated()") { out in
                    out.line("element.collectRuleViolations(at: path + \"\(field.name)[\\(index)].\", into: &violations)")
                }
            } else if let check = valueCheck("element", field: field, rules: element, path: elementPath) {
                out.block("for (index, element) in \(property).enumerated()") { out in
                    out.line(check)
                }
            }
            return
        }

        if field.type == .message {
            if rule.required {
                out.block("if !self.\(names.has)") { out in
                    out.line("FieldRuleCheck.missing(field: \(fieldPath), into: &violations)")
                }
            }
            if nestedChecked {
                out.block("if self.\(names.has)") { out in
                    out.line("\(property).collectRuleViolations(at: path + \"\(field.name).\", into: &violations)")
                }
            }
            return
        }

        if field.hasPresence {
            var present = rule
            present.required = false
            let check = valueCheck(property, field: field, rules: present, path: fieldPath)
            let missing = "FieldRuleCheck.missing(field: \(fieldPath), into: &violations)"
            switch (check, rule.required) {
            case (let check?, true):
                out.line("if self.\(names.has) {")
                out.indented { $0.line(check) }
                out.line("} else {")
                out.indented { $0.line(missing) }
                out.line("}")
            case (let check?, false):
                out.block("if self.\(names.has)") { $0.line(check) }
            case (nil, true):
                out.block("if !self.\(names.has)") { $0.line(missing) }
            case (nil, false):
                break
            }
            return
        }
        if let check = valueCheck(property, field: field, rules: rule, path: fieldPath) {
            out.line(check)
        }
    }

    /// The check of one value (a field's, or a repeated field's element),
    /// or `nil` when its rules say nothing about a value.
    private func valueCheck(_ value: String, field: FieldDescriptor, rules: FieldRulesModel, path: String) -> String? {
        switch FieldRulesModel.valueType(of: field) {
        case .string:
            var arguments: [String] = []
            if rules.required { arguments.append("required: true") }
            if let value = rules.minLength { arguments.append("minLength: \(value)") }
            if let value = rules.maxLength { arguments.append("maxLength: \(value)") }
            if let value = rules.minBytes { arguments.append("minBytes: \(value)") }
            if let value = rules.maxBytes { arguments.append("maxBytes: \(value)") }
            if let value = rules.pattern { arguments.append("pattern: \(value.swiftLiteral)") }
            if let value = rules.format { arguments.append("format: .\(value.rawValue)") }
            guard !arguments.isEmpty else { return nil }
            return "FieldRuleCheck.check(\(value), StringRules(\(arguments.joined(separator: ", "))), field: \(path), into: &violations)"
        case .bytes:
            guard rules.required else { return nil }
            return "if \(value).isEmpty { FieldRuleCheck.missing(field: \(path), into: &violations) }"
        case .integer, .double:
            var arguments: [String] = []
            if rules.required { arguments.append("required: true") }
            if let value = rules.minimum { arguments.append("minimum: \(value)") }
            if let value = rules.maximum { arguments.append("maximum: \(value)") }
            if field.options.Shop_Api_money { arguments.append("money: true") }
            guard rules.required || rules.minimum != nil || rules.maximum != nil else { return nil }
            let converted: String
            switch field.type {
            case .double, .float: converted = "Double(\(value))"
            case .uint64, .fixed64: converted = "Int64(clamping: \(value))"
            case .int64, .sint64, .sfixed64: converted = value
            default: converted = "Int64(\(value))"
            }
            return "FieldRuleCheck.check(\(converted), NumberRules(\(arguments.joined(separator: ", "))), field: \(path), into: &violations)"
        case .enumeration:
            guard rules.required || rules.definedOnly else { return nil }
            var defined: [Int32] = []
            for enumValue in field.enumType.values where enumValue.number != 0 && !defined.contains(enumValue.number) {
                defined.append(enumValue.number)
            }
            return "FieldRuleCheck.checkEnum(\(value).rawValue, defined: [\(defined.map(String.init).joined(separator: ", "))], required: \(rules.required), definedOnly: \(rules.definedOnly), field: \(path), into: &violations)"
        case .bool, .message:
            return nil
        }
    }

    private func optional(_ value: UInt32?) -> String {
        value.map(String.init) ?? "nil"
    }
}

/// The messages that get a validation function: those with rules of their
/// own, and those holding (through singular or repeated fields, at any
/// depth) one that has some.
struct RuleCheckedMessages {
    private var names: Set<String> = []

    init(files: [FileDescriptor]) {
        var verdicts: [String: Bool] = [:]
        for file in files {
            for message in ValidationRenderer.allMessages(file.messages) where Self.isChecked(message, verdicts: &verdicts, visiting: []) {
                names.insert(message.fullName)
            }
        }
    }

    func contains(_ message: Descriptor) -> Bool { names.contains(message.fullName) }

    private static func isChecked(_ message: Descriptor, verdicts: inout [String: Bool], visiting: Set<String>) -> Bool {
        if let known = verdicts[message.fullName] { return known }
        guard !visiting.contains(message.fullName) else { return false }
        var checked = false
        for field in message.fields {
            if field.options.hasShop_Api_rules { checked = true }
            if field.type == .message, !field.isMap, field.messageType.wellKnownType == nil,
               isChecked(field.messageType, verdicts: &verdicts, visiting: visiting.union([message.fullName])) {
                checked = true
            }
        }
        verdicts[message.fullName] = checked
        return checked
    }
}
