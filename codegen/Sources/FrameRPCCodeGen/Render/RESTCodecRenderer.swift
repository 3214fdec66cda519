import SwiftProtobufPluginLibrary

/// Renders, for every message a route carries, its `RESTMessage`
/// conformance: `mergeREST(from:at:)`, which reads the typed message's
/// fields straight from a request body's `RESTBodyReader` (unknown members
/// skipped), and `writeREST(to:)`, which writes the
/// typed message as the REST JSON; and for every enum they use, its REST
/// names. The gateway then needs neither protobuf's JSON mapping nor a
/// description of the messages at run time.
struct RESTCodecRenderer {
    let visibility: String
    private let namer = SwiftProtobufNamer()

    init(visibility: String) {
        self.visibility = visibility
    }

    /// How a field's values are read and written.
    enum Codec {
        case scalar(ScalarKind, enumType: EnumDescriptor?)
        case timestamp
        case message(Descriptor)
    }

    /// The codec of a field, or `nil` for a field the REST JSON does not carry (groups).
    static func codec(of field: FieldDescriptor) -> Codec? {
        if field.type == .message {
            if field.messageType.wellKnownType == .timestamp { return .timestamp }
            return .message(field.messageType)
        }
        guard let scalar = ScalarKind(field) else { return nil }
        return .scalar(scalar, enumType: field.type == .enum ? field.enumType : nil)
    }

    /// Every message reachable from `roots` (roots first, then by first
    /// reference), and the problems of those the REST JSON cannot carry.
    static func messages(from roots: [Descriptor]) -> (messages: [Descriptor], errors: [CodeGenError]) {
        var order: [Descriptor] = []
        var seen: Set<String> = []
        var errors: [CodeGenError] = []
        var pending = roots
        while !pending.isEmpty {
            let message = pending.removeFirst()
            guard seen.insert(message.fullName).inserted else { continue }
            order.append(message)
            for field in message.fields where field.type == .message {
                if field.isMap {
                    errors.append(CodeGenError(file: message.file.name, element: "\(message.fullName).\(field.name)", problem: "maps cannot be carried by a REST route"))
                } else if let known = field.messageType.wellKnownType, known != .timestamp {
                    errors.append(CodeGenError(file: message.file.name, element: "\(message.fullName).\(field.name)", problem: "\(field.messageType.fullName) cannot be carried by a REST route (only google.protobuf.Timestamp of the well-known types)"))
                } else if field.messageType.wellKnownType == nil {
                    pending.append(field.messageType)
                }
            }
        }
        return (order, errors)
    }

    /// The enums the messages' fields use, in first-use order.
    static func enums(of messages: [Descriptor]) -> [EnumDescriptor] {
        var seen: Set<String> = []
        var result: [EnumDescriptor] = []
        for message in messages {
            for field in message.fields where field.type == .enum && seen.insert(field.enumType.fullName).inserted {
                result.append(field.enumType)
            }
        }
        return result
    }

    func render(messages: [Descriptor], into out: inout SwiftWriter) {
        for message in messages {
            out.line()
            render(message, into: &out)
        }
        for enumType in Self.enums(of: messages) {
            out.line()
            render(enumType, into: &out)
        }
    }

    // MARK: Messages

    private func render(_ message: Descriptor, into out: inout SwiftWriter) {
        let fields = message.fields.compactMap { field in Self.codec(of: field).map { (field, $0) } }
        out.line("/// `\(message.fullName)` in the REST JSON.")
        out.block("extension \(namer.fullName(message: message)): RESTMessage") { out in
            out.block("\(visibility) mutating func mergeREST(from reader: inout RESTBodyReader, at path: String) throws(TranscodingError)") { out in
                out.line("try reader.beginObject(at: path)")
                out.line("var members = 0")
                guard !fields.isEmpty else {
                    out.block("while try reader.nextMember(&members) != nil") { $0.line("try reader.skipValue()") }
                    return
                }
                out.block("while let name = try reader.nextMember(&members)") { out in
                    out.line("switch name {")
                    for (field, codec) in fields {
                        out.line("case \(field.name.swiftLiteral):")
                        out.indented { out in
                            out.line("let at = RESTRead.path(path, \(field.name.swiftLiteral))")
                            out.line("try reader.field(at: at)")
                            out.line("self.\(property(field).name) = \(read(field, codec, at: "at"))")
                        }
                    }
                    out.line("default:")
                    out.indented { $0.line("try reader.skipValue()") }
                    out.line("}")
                }
            }
            out.line()
            out.block("\(visibility) func writeREST(to writer: inout RESTWriter)") { out in
                out.line("writer.beginObject()")
                for (field, codec) in fields {
                    write(field, codec, into: &out)
                }
                out.line("writer.endObject()")
            }
        }
    }

    func property(_ field: FieldDescriptor) -> (name: String, has: String) {
        let names = namer.messagePropertyNames(field: field, prefixed: "_", includeHasAndClear: true)
        return (names.name, names.has)
    }

    /// The Swift expression reading the field's value, repeated or not,
    /// from `reader` (a `RESTBodyReader` positioned at it) at `at` (a path
    /// expression).
    func read(_ field: FieldDescriptor, _ codec: Codec, at: String) -> String {
        guard field.isRepeated else { return readOne(codec, at: at) }
        return "try reader.repeated(at: \(at)) { (reader: inout RESTBodyReader, at: String) throws(TranscodingError) -> \(swiftType(codec)) in \(readOne(codec, at: "at")) }"
    }

    func readOne(_ codec: Codec, at: String) -> String {
        switch codec {
        case .timestamp:
            return "try reader.timestamp(at: \(at))"
        case .message(let message):
            return "try reader.message(at: \(at), as: \(namer.fullName(message: message)).self)"
        case .scalar(let scalar, let enumType):
            if let enumType {
                let type = namer.fullName(enum: enumType)
                return "\(type)(rawValue: try reader.enumeration(at: \(at), allowed: \(type).restAllowed, \(type).restNumber))!"
            }
            return "try reader.\(Self.readerName(scalar))(at: \(at))"
        }
    }

    /// The Swift expression reading `text` (a path or query value) as a
    /// value of the codec, or `nil` for messages (never bound to text).
    func readText(_ codec: Codec, text: String, at: String) -> String? {
        switch codec {
        case .timestamp:
            return "try RESTRead.timestamp(text: \(text), at: \(at))"
        case .message:
            return nil
        case .scalar(.string, _):
            return text
        case .scalar(let scalar, let enumType):
            if let enumType {
                let type = namer.fullName(enum: enumType)
                return "\(type)(rawValue: try RESTRead.enumeration(text: \(text), at: \(at), allowed: \(type).restAllowed, \(type).restNumber))!"
            }
            return "try RESTRead.\(Self.readerName(scalar))(text: \(text), at: \(at))"
        }
    }

    static func readerName(_ scalar: ScalarKind) -> String {
        switch scalar {
        case .string: "string"
        case .bool: "bool"
        case .int32: "int32"
        case .uint32: "uint32"
        case .int64: "int64"
        case .uint64: "uint64"
        case .double: "double"
        case .bytes: "bytes"
        case .money: "money"
        case .enumeration: "enumeration"
        }
    }

    func swiftType(_ codec: Codec) -> String {
        switch codec {
        case .timestamp: return "Google_Protobuf_Timestamp"
        case .message(let message): return namer.fullName(message: message)
        case .scalar(let scalar, let enumType):
            if let enumType { return namer.fullName(enum: enumType) }
            switch scalar {
            case .string: return "String"
            case .bool: return "Bool"
            case .int32: return "Int32"
            case .uint32: return "UInt32"
            case .int64, .money: return "Int64"
            case .uint64: return "UInt64"
            case .double: return "Double"
            case .bytes: return "Data"
            case .enumeration: return "Int"
            }
        }
    }

    /// Writes one field: a key and its value; an unset sub-message or
    /// timestamp is left out.
    private func write(_ field: FieldDescriptor, _ codec: Codec, into out: inout SwiftWriter) {
        let names = property(field)
        // `#""name":"#`: the quoted name and its colon, one copy at run time.
        let key = "writer.key(#\"\"\(field.name)\":\"#)"
        if field.isRepeated {
            out.line(key)
            if case .message = codec {
                out.line("writer.messages(self.\(names.name))")
                return
            }
            out.line("writer.beginArray()")
            out.block("for item in self.\(names.name)") { out in
                out.line("writer.element()")
                out.line(writeOne(codec, value: "item"))
            }
            out.line("writer.endArray()")
            return
        }
        switch codec {
        case .message, .timestamp:
            out.block("if self.\(names.has)") { out in
                out.line(key)
                out.line(writeOne(codec, value: "self.\(names.name)"))
            }
        case .scalar:
            out.line(key)
            out.line(writeOne(codec, value: "self.\(names.name)"))
        }
    }

    func writeOne(_ codec: Codec, value: String) -> String {
        switch codec {
        case .timestamp: return "writer.timestamp(\(value))"
        case .message: return "writer.message(\(value))"
        case .scalar(let scalar, let enumType):
            if enumType != nil { return "writer.name(\(value).restName)" }
            switch scalar {
            case .string: return "writer.string(\(value))"
            case .bool: return "writer.bool(\(value))"
            case .int32, .uint32, .int64, .uint64: return "writer.int(\(value))"
            case .double: return "writer.double(\(value))"
            case .bytes: return "writer.bytes(\(value))"
            case .money: return "writer.money(\(value))"
            case .enumeration: return "writer.int(\(value))"
            }
        }
    }

    // MARK: Enums

    private func render(_ enumType: EnumDescriptor, into out: inout SwiftWriter) {
        let prefix = EnumNames.prefix(of: enumType)
        let names = enumType.values.map { (name: EnumNames.jsonName(of: $0.name, prefix: prefix), number: $0.number) }
        let fallback = names.first?.name ?? ""
        out.line("/// `\(enumType.fullName)` in the REST JSON: lower case, without `\(prefix)`.")
        out.block("extension \(namer.fullName(enum: enumType))") { out in
            out.line("/// The names a request may give (any case), for the 422 that lists them.")
            out.line("static let restAllowed = \(names.map(\.name).filter { $0 != "unspecified" }.joined(separator: ", ").swiftLiteral)")
            out.line()
            out.line("/// The value number of a lower-cased name a request may give.")
            out.block("static func restNumber(_ name: String) -> Int?") { out in
                out.line("switch name {")
                var seen: Set<String> = []
                for value in names where value.name != "unspecified" && seen.insert(value.name).inserted {
                    out.line("case \(value.name.swiftLiteral): return \(value.number)")
                }
                out.line("default: return nil")
                out.line("}")
            }
            out.line()
            out.line("/// The name a response shows; an unknown number shows as \(fallback.swiftLiteral).")
            out.block("var restName: StaticString") { out in
                out.line("switch rawValue {")
                var seen: Set<Int32> = [0]
                for value in enumType.values where seen.insert(value.number).inserted {
                    out.line("case \(value.number): return \(EnumNames.jsonName(of: value.name, prefix: prefix).swiftLiteral)")
                }
                out.line("default: return \(fallback.swiftLiteral)")
                out.line("}")
            }
        }
    }
}
