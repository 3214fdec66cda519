/// Translates between the REST JSON of the public API and protobuf's
/// canonical JSON, which the generated route calls take and give.
///
/// Going in, path variables, query parameters and the body fill the request
/// message as the route says (path wins over query, query over body), with
/// every value checked against the message's shape: a wrong type is a
/// ``TranscodingError`` the gateway answers 400, a value outside its domain
/// (an unknown enum name, a price with three decimals) one it answers 422.
/// Unknown fields are ignored; a known one given as null is a wrong type. Money arrives as a decimal number and goes to
/// the service as integer cents; enums arrive in lower case without their
/// prefix.
///
/// Coming out, scalar and list fields left out by protobuf's JSON mapping (default values)
/// are filled in, money becomes a decimal number again and enums lose their
/// prefix, so every response has every field of the API.
public struct RESTTranscoder: Sendable {
    public let shapes: [String: MessageShape]

    public init(shapes: [String: MessageShape]) {
        self.shapes = shapes
    }

    // MARK: Requests

    /// The request message of `route` as canonical protobuf JSON.
    public func request(
        for route: RESTRoute,
        pathValues: [String: String],
        query: [(name: String, value: String)],
        body: [UInt8]?
    ) throws(TranscodingError) -> [UInt8] {
        let shape = try messageShape(route.request)
        var message: [(key: String, value: JSONValue)] = []

        if route.body != .none, let body, !body.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            let parsed: JSONValue
            do {
                parsed = try JSONParser.parse(body, limits: .standard)
            } catch {
                throw TranscodingError(error.kind == .limitExceeded ? .tooLarge : .malformed, "\(error)")
            }
            switch route.body {
            case .all:
                guard case .object = parsed else { throw TranscodingError(.wrongType, "the body must be a JSON object") }
                if case .object(let members) = try toProto(parsed, .message(route.request), repeated: false, path: "") {
                    message = members
                }
            case .field(let name):
                guard let field = shape.fieldsByName[name] else { break }
                let converted = try toProto(parsed, field.kind, repeated: field.repeated, path: name)
                if converted != .null { Self.set(&message, path: [name], to: converted) }
            case .none:
                break
            }
        }

        for parameter in route.query {
            let values = query.filter { $0.name == parameter.name }.map(\.value)
            guard !values.isEmpty else { continue }
            let converted: JSONValue
            if parameter.repeated {
                converted = .array(try values.map { value throws(TranscodingError) in try Self.scalar(fromText: value, parameter.kind, path: parameter.name) })
            } else {
                converted = try Self.scalar(fromText: values.last!, parameter.kind, path: parameter.name)
            }
            Self.set(&message, path: parameter.name.split(separator: ".").map(String.init), to: converted)
        }

        for variable in route.pathVariables {
            guard let text = pathValues[variable] else { continue }
            let kind = try fieldKind(atPath: variable, in: route.request)
            Self.set(&message, path: variable.split(separator: ".").map(String.init), to: try Self.scalar(fromText: text, kind, path: variable))
        }
        return JSONValue.object(message).serialized
    }

    private func messageShape(_ name: String) throws(TranscodingError) -> MessageShape {
        guard let shape = shapes[name] else { throw TranscodingError(.internal, "no shape for \(name)") }
        return shape
    }

    private func fieldKind(atPath dottedPath: String, in message: String) throws(TranscodingError) -> FieldShape.Kind {
        var current = try messageShape(message)
        let names = dottedPath.split(separator: ".").map(String.init)
        for (index, name) in names.enumerated() {
            guard let field = current.fieldsByName[name] else { throw TranscodingError(.internal, "no field \(dottedPath) in \(message)") }
            if index == names.count - 1 { return field.kind }
            guard case .message(let nested) = field.kind else { throw TranscodingError(.internal, "\(name) is not a message") }
            current = try messageShape(nested)
        }
        throw TranscodingError(.internal, "empty field path")
    }

    private func toProto(_ value: JSONValue, _ kind: FieldShape.Kind, repeated: Bool, path: String) throws(TranscodingError) -> JSONValue {
        if value == .null { return .null }
        if repeated {
            guard case .array(let items) = value else { throw TranscodingError.wrongType(path, "an array") }
            var converted: [JSONValue] = []
            for (index, item) in items.enumerated() {
                if item == .null { throw TranscodingError.wrongType("\(path)[\(index)]", "a value, not null") }
                converted.append(try toProto(item, kind, repeated: false, path: "\(path)[\(index)]"))
            }
            return .array(converted)
        }
        switch kind {
        case .message(let name):
            guard case .object(let members) = value else { throw TranscodingError.wrongType(path, "an object") }
            let shape = try messageShape(name)
            var converted: [(key: String, value: JSONValue)] = []
            for member in members {
                guard let field = shape.fieldsByName[member.key] else { continue }
                let fieldPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                // The document declares no field nullable: leave a field out
                // rather than sending null.
                if member.value == .null { throw TranscodingError.wrongType(fieldPath, "a value, not null (leave the field out instead)") }
                let fieldValue = try toProto(member.value, field.kind, repeated: field.repeated, path: fieldPath)
                if fieldValue != .null { converted.append((member.key, fieldValue)) }
            }
            return .object(converted)
        case .opaque:
            return value
        case .timestamp, .string, .bytes:
            guard case .string = value else { throw TranscodingError.wrongType(path, "a string") }
            return value
        case .bool:
            guard case .bool = value else { throw TranscodingError.wrongType(path, "true or false") }
            return value
        case .double:
            guard case .number = value else { throw TranscodingError.wrongType(path, "a number") }
            return value
        case .int32, .uint32, .int64, .uint64:
            guard case .number(let text) = value else { throw TranscodingError.wrongType(path, "an integer") }
            return try Self.integer(text, kind, path: path)
        case .money:
            guard case .number(let text) = value else { throw TranscodingError.wrongType(path, "a number") }
            return .number(String(try Self.cents(text, path: path)))
        case .enumeration(let prefix, let values):
            guard case .string(let text) = value else { throw TranscodingError.wrongType(path, "a string") }
            return try Self.enumeration(text, prefix: prefix, values: values, path: path)
        }
    }

    /// A query or path value, given as text, as the JSON its field takes.
    static func scalar(fromText text: String, _ kind: FieldShape.Kind, path: String) throws(TranscodingError) -> JSONValue {
        switch kind {
        case .string, .bytes, .timestamp, .opaque, .message:
            return .string(text)
        case .bool:
            switch text.lowercased() {
            case "true", "1": return .bool(true)
            case "false", "0": return .bool(false)
            default: throw TranscodingError.wrongType(path, "true or false")
            }
        case .int32, .uint32, .int64, .uint64:
            return try integer(text, kind, path: path)
        case .double:
            guard Double(text) != nil, (try? JSONParser.parse(Array(text.utf8))).map({ if case .number = $0 { true } else { false } }) == true else {
                throw TranscodingError.wrongType(path, "a number")
            }
            return .number(text)
        case .money:
            return .number(String(try cents(text, path: path)))
        case .enumeration(let prefix, let values):
            return try enumeration(text, prefix: prefix, values: values, path: path)
        }
    }

    private static func integer(_ text: String, _ kind: FieldShape.Kind, path: String) throws(TranscodingError) -> JSONValue {
        let range: ClosedRange<Int64>? = switch kind {
        case .int32: Int64(Int32.min)...Int64(Int32.max)
        case .uint32: 0...Int64(UInt32.max)
        case .int64: Int64.min...Int64.max
        default: nil
        }
        if let range {
            guard let value = Int64(text) else { throw TranscodingError.wrongType(path, "an integer") }
            guard range.contains(value) else { throw TranscodingError(.invalid, "\(path): \(value) is out of range") }
            return .number(String(value))
        }
        guard let value = UInt64(text) else { throw TranscodingError.wrongType(path, "a non-negative integer") }
        return .number(String(value))
    }

    /// Integer cents from a decimal with at most two decimals.
    static func cents(_ text: String, path: String) throws(TranscodingError) -> Int64 {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].allSatisfy(\.isASCII), let whole = Int64(parts[0]) else {
            throw TranscodingError.wrongType(path, "a decimal number like 19.99")
        }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let decimals = parts[1]
            guard !decimals.isEmpty, decimals.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw TranscodingError.wrongType(path, "a decimal number like 19.99")
            }
            guard decimals.count <= 2 else { throw TranscodingError(.invalid, "\(path): must have at most two decimals") }
            fraction = Int64(decimals)! * (decimals.count == 1 ? 10 : 1)
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 100)
        guard !overflow, scaled <= Int64.max - fraction else { throw TranscodingError(.invalid, "\(path): is too large") }
        return negative ? -(scaled + fraction) : scaled + fraction
    }

    private static func enumeration(_ text: String, prefix: String, values: [String], path: String) throws(TranscodingError) -> JSONValue {
        let name = text.lowercased()
        guard values.contains(name), name != "unspecified" else {
            let allowed = values.filter { $0 != "unspecified" }.joined(separator: ", ")
            throw TranscodingError(.invalid, "\(path): must be one of \(allowed)")
        }
        return .string(prefix + name.uppercased())
    }

    private static func set(_ members: inout [(key: String, value: JSONValue)], path: [String], to value: JSONValue) {
        guard let first = path.first else { return }
        let index = members.firstIndex { $0.key == first }
        if path.count == 1 {
            if let index { members[index].value = value } else { members.append((first, value)) }
            return
        }
        var nested: [(key: String, value: JSONValue)] = []
        if let index, case .object(let existing) = members[index].value { nested = existing }
        set(&nested, path: Array(path.dropFirst()), to: value)
        if let index { members[index].value = .object(nested) } else { members.append((first, .object(nested))) }
    }

    // MARK: Responses

    /// The REST JSON of a response message given as canonical protobuf JSON:
    /// the whole message, or the route's `responseBody` field.
    public func response(for route: RESTRoute, protoJSON: [UInt8]) throws(TranscodingError) -> [UInt8] {
        try response(message: route.response, responseBody: route.responseBody, protoJSON: protoJSON).serialized
    }

    /// The field of a list response that holds the next page's token.
    public static let nextPageTokenField = "next_page_token"

    /// The REST JSON of a response, and its `next_page_token` when it has a
    /// non-empty one. A list route's body is the bare array (its
    /// `responseBody`), so the token travels beside it: the gateway sends
    /// it as the `Next-Page-Token` header.
    public func responseWithPageToken(for route: RESTRoute, protoJSON: [UInt8]) throws(TranscodingError) -> (body: [UInt8], nextPageToken: String?) {
        let whole = try response(message: route.response, responseBody: nil, protoJSON: protoJSON)
        var token: String?
        if case .string(let text)? = whole[Self.nextPageTokenField], !text.isEmpty { token = text }
        guard let responseBody = route.responseBody else { return (whole.serialized, token) }
        return ((whole[responseBody] ?? .array([])).serialized, token)
    }

    func response(message: String, responseBody: String?, protoJSON: [UInt8]) throws(TranscodingError) -> JSONValue {
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(protoJSON, limits: .trusted)
        } catch {
            throw TranscodingError(.internal, "service response: \(error)")
        }
        let value = try fromProto(parsed, .message(message), repeated: false)
        if let responseBody { return value[responseBody] ?? .array([]) }
        return value
    }

    private func fromProto(_ value: JSONValue?, _ kind: FieldShape.Kind, repeated: Bool) throws(TranscodingError) -> JSONValue {
        if repeated {
            guard case .array(let items)? = value else { return .array([]) }
            var converted: [JSONValue] = []
            for item in items { converted.append(try fromProto(item, kind, repeated: false)) }
            return .array(converted)
        }
        switch kind {
        case .message(let name):
            guard case .object? = value else { return .null }
            let shape = try messageShape(name)
            var converted: [(key: String, value: JSONValue)] = []
            for field in shape.fields {
                let fieldValue = value?[field.name]
                // An unset message or timestamp is left out rather than
                // sent as null (the document does not declare them nullable).
                if fieldValue == nil, !field.repeated, Self.isAbsentWhenUnset(field.kind) { continue }
                converted.append((field.name, try fromProto(fieldValue, field.kind, repeated: field.repeated)))
            }
            return .object(converted)
        case .opaque, .timestamp:
            return value ?? .null
        case .string, .bytes:
            return value ?? .string("")
        case .bool:
            return value ?? .bool(false)
        case .double, .int32, .uint32, .int64, .uint64:
            switch value {
            case .number?: return value!
            case .string(let text)?: return .number(text)
            default: return .number("0")
            }
        case .money:
            let cents: Int64
            switch value {
            case .number(let text)?: cents = Int64(text) ?? 0
            case .string(let text)?: cents = Int64(text) ?? 0
            default: cents = 0
            }
            return .number(Self.decimal(cents: cents))
        case .enumeration(let prefix, let values):
            guard case .string(let name)? = value else { return .string(values.first ?? "") }
            return .string(name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)).lowercased() : name.lowercased())
        }
    }

    private static func isAbsentWhenUnset(_ kind: FieldShape.Kind) -> Bool {
        switch kind {
        case .message, .timestamp, .opaque: true
        default: false
        }
    }

    /// `1999` as `19.99`, `-50` as `-0.50`.
    static func decimal(cents: Int64) -> String {
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(cents < 0 ? "-" : "")\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// Why a REST request could not become a request message.
public struct TranscodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Not JSON at all: HTTP 400.
        case malformed
        /// JSON, but a field has the wrong type: HTTP 400.
        case wrongType
        /// The right type, but not an allowed value: HTTP 422.
        case invalid
        /// JSON with more structure than the parser's limits allow (members
        /// per object, values per document, depth): HTTP 413.
        case tooLarge
        /// The route table and shapes disagree: a bug, HTTP 500.
        case `internal`
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func wrongType(_ path: String, _ expected: String) -> TranscodingError {
        TranscodingError(.wrongType, "\(path.isEmpty ? "the body" : path): must be \(expected)")
    }

    /// The HTTP status the gateway answers with.
    public var httpStatus: Int {
        switch kind {
        case .malformed, .wrongType: 400
        case .invalid: 422
        case .tooLarge: 413
        case .internal: 500
        }
    }

    public var description: String { message }
}
