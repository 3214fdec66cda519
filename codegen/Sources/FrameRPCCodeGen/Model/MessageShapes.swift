import SwiftProtobufPluginLibrary

/// A message as the REST JSON sees it: its fields by proto name, each with
/// the JSON-level kind the gateway converts and validates.
struct MessageShape {
    let protoName: String
    let fields: [FieldShape]
    /// The message's leading comment, whole.
    var description: String = ""
}

struct FieldShape {
    enum Kind: Equatable {
        case scalar(ScalarKind)
        case message(String)
        /// `google.protobuf.Timestamp`: an RFC 3339 string.
        case timestamp
        /// Maps and other well-known types: passed through as they are.
        case opaque
    }

    /// The proto field name, which is the JSON name (snake_case).
    let name: String
    let kind: Kind
    let repeated: Bool
    /// The field's leading comment, whole.
    var description: String = ""
    /// From `(shop.api.example)`, checked by ``ModelBuilder``.
    var example: JSONValue?
    /// From `(shop.api.rules)`, checked by ``ModelBuilder``.
    var rules: FieldRulesModel?
}

/// Every message reachable from the given roots, in a stable order
/// (roots first, then by first reference).
enum ShapeCollector {
    static func shapes(from roots: [Descriptor]) -> [MessageShape] {
        var order: [String] = []
        var byName: [String: MessageShape] = [:]
        var pending = roots
        while !pending.isEmpty {
            let message = pending.removeFirst()
            guard byName[message.fullName] == nil else { continue }
            var fields: [FieldShape] = []
            for field in message.fields {
                if field.isMap {
                    fields.append(FieldShape(name: field.name, kind: .opaque, repeated: false))
                } else if field.type == .message {
                    let nested = field.messageType!
                    switch nested.wellKnownType {
                    case .timestamp?:
                        fields.append(FieldShape(name: field.name, kind: .timestamp, repeated: field.isRepeated))
                    case .some:
                        fields.append(FieldShape(name: field.name, kind: .opaque, repeated: field.isRepeated))
                    case nil:
                        fields.append(FieldShape(name: field.name, kind: .message(nested.fullName), repeated: field.isRepeated))
                        pending.append(nested)
                    }
                } else if let scalar = ScalarKind(field) {
                    fields.append(FieldShape(name: field.name, kind: .scalar(scalar), repeated: field.isRepeated))
                }
            }
            for index in fields.indices {
                guard let field = message.fields.first(where: { $0.name == fields[index].name }) else { continue }
                fields[index].description = DocComment(field.protoSourceComments()).text
                fields[index].example = FieldExample.value(of: field)
                fields[index].rules = FieldRulesModel.of(field)
            }
            order.append(message.fullName)
            byName[message.fullName] = MessageShape(
                protoName: message.fullName,
                fields: fields,
                description: DocComment(message.protoSourceComments()).text
            )
        }
        return order.map { byName[$0]! }
    }
}
