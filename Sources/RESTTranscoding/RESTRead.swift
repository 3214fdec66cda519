import Foundation
import SwiftProtobuf

/// The conversions the generated request builders call: a JSON value of the
/// body, or a path or query value given as text, to the typed value of its
/// field, with the error class the gateway answers (wrong type 400, value
/// outside its domain 422). Paths name the field in errors (`book.price`,
/// `items[0].quantity`).
public enum RESTRead {
    // MARK: Structure

    /// `path.name`, or `name` at the top.
    @inlinable
    public static func path(_ path: String, _ name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }

    /// A whole request body (`body: "*"`): it must be an object.
    public static func bodyObject(_ value: JSONValue) throws(TranscodingError) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = value else { throw TranscodingError(.wrongType, "the body must be a JSON object") }
        return members
    }

    /// A known field's value in a body: null is a wrong type (the document
    /// declares no field nullable; leave it out instead).
    public static func field(_ value: JSONValue, at path: String) throws(TranscodingError) -> JSONValue {
        if value == .null { throw TranscodingError.wrongType(path, "a value, not null (leave the field out instead)") }
        return value
    }

    /// A repeated field: an array whose items are not null, each converted.
    public static func repeated<Element>(
        _ value: JSONValue,
        at path: String,
        _ element: (JSONValue, String) throws(TranscodingError) -> Element
    ) throws(TranscodingError) -> [Element] {
        guard case .array(let items) = value else { throw TranscodingError.wrongType(path, "an array") }
        var converted: [Element] = []
        converted.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            if item == .null { throw TranscodingError.wrongType(itemPath, "a value, not null") }
            converted.append(try element(item, itemPath))
        }
        return converted
    }

    /// A nested message: an object, merged into a new message.
    public static func message<Message: RESTMessage>(_ value: JSONValue, at path: String, as type: Message.Type = Message.self) throws(TranscodingError) -> Message {
        guard case .object(let members) = value else { throw TranscodingError.wrongType(path, "an object") }
        var message = Message()
        try message.mergeREST(members, at: path)
        return message
    }

    // MARK: Body values

    public static func string(_ value: JSONValue, at path: String) throws(TranscodingError) -> String {
        guard case .string(let text) = value else { throw TranscodingError.wrongType(path, "a string") }
        return text
    }

    public static func bool(_ value: JSONValue, at path: String) throws(TranscodingError) -> Bool {
        guard case .bool(let flag) = value else { throw TranscodingError.wrongType(path, "true or false") }
        return flag
    }

    public static func int32(_ value: JSONValue, at path: String) throws(TranscodingError) -> Int32 {
        Int32(try signed(integerText(value, at: path), in: Int64(Int32.min)...Int64(Int32.max), at: path))
    }

    public static func uint32(_ value: JSONValue, at path: String) throws(TranscodingError) -> UInt32 {
        UInt32(try signed(integerText(value, at: path), in: 0...Int64(UInt32.max), at: path))
    }

    public static func int64(_ value: JSONValue, at path: String) throws(TranscodingError) -> Int64 {
        try signed(integerText(value, at: path), in: Int64.min...Int64.max, at: path)
    }

    public static func uint64(_ value: JSONValue, at path: String) throws(TranscodingError) -> UInt64 {
        try unsigned(integerText(value, at: path), at: path)
    }

    public static func double(_ value: JSONValue, at path: String) throws(TranscodingError) -> Double {
        guard case .number(let text) = value else { throw TranscodingError.wrongType(path, "a number") }
        return try finite(text, at: path)
    }

    /// Money: a decimal number with at most two decimals, as integer cents.
    public static func money(_ value: JSONValue, at path: String) throws(TranscodingError) -> Int64 {
        guard case .number(let text) = value else { throw TranscodingError.wrongType(path, "a number") }
        return try cents(text, at: path)
    }

    /// Bytes: base64 (standard or URL-safe, padding optional), as protobuf's JSON mapping has them.
    public static func bytes(_ value: JSONValue, at path: String) throws(TranscodingError) -> Data {
        guard case .string(let text) = value else { throw TranscodingError.wrongType(path, "a string") }
        return try bytes(text: text, at: path)
    }

    public static func timestamp(_ value: JSONValue, at path: String) throws(TranscodingError) -> Google_Protobuf_Timestamp {
        guard case .string(let text) = value else { throw TranscodingError.wrongType(path, "a string") }
        return try timestamp(text: text, at: path)
    }

    /// An enum value by its REST name (lower case, without the prefix; any
    /// case is accepted). `number` maps a lower-cased name to its value
    /// number, `nil` for names that are not allowed; `allowed` lists them
    /// for the 422.
    public static func enumeration(
        _ value: JSONValue,
        at path: String,
        allowed: String,
        _ number: (String) -> Int?
    ) throws(TranscodingError) -> Int {
        guard case .string(let text) = value else { throw TranscodingError.wrongType(path, "a string") }
        return try enumeration(text: text, at: path, allowed: allowed, number)
    }

    // MARK: Text values (path variables, query parameters)

    public static func bool(text: String, at path: String) throws(TranscodingError) -> Bool {
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw TranscodingError.wrongType(path, "true or false")
        }
    }

    public static func int32(text: String, at path: String) throws(TranscodingError) -> Int32 {
        Int32(try signed(text, in: Int64(Int32.min)...Int64(Int32.max), at: path))
    }

    public static func uint32(text: String, at path: String) throws(TranscodingError) -> UInt32 {
        UInt32(try signed(text, in: 0...Int64(UInt32.max), at: path))
    }

    public static func int64(text: String, at path: String) throws(TranscodingError) -> Int64 {
        try signed(text, in: Int64.min...Int64.max, at: path)
    }

    public static func uint64(text: String, at path: String) throws(TranscodingError) -> UInt64 {
        try unsigned(text, at: path)
    }

    /// A number as JSON writes one (no `nan`, no hex, no leading `+`).
    public static func double(text: String, at path: String) throws(TranscodingError) -> Double {
        guard case .number? = try? JSONParser.parse(Array(text.utf8)) else { throw TranscodingError.wrongType(path, "a number") }
        return try finite(text, at: path)
    }

    public static func money(text: String, at path: String) throws(TranscodingError) -> Int64 {
        try cents(text, at: path)
    }

    public static func bytes(text: String, at path: String) throws(TranscodingError) -> Data {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        guard let data = Data(base64Encoded: standard) else { throw TranscodingError.wrongType(path, "base64") }
        return data
    }

    public static func timestamp(text: String, at path: String) throws(TranscodingError) -> Google_Protobuf_Timestamp {
        guard let (seconds, nanos) = RESTTimestamp.parse(text) else {
            throw TranscodingError.wrongType(path, "an RFC 3339 timestamp like 2026-12-01T15:04:05Z")
        }
        var timestamp = Google_Protobuf_Timestamp()
        timestamp.seconds = seconds
        timestamp.nanos = nanos
        return timestamp
    }

    public static func enumeration(text: String, at path: String, allowed: String, _ number: (String) -> Int?) throws(TranscodingError) -> Int {
        guard let value = number(text.lowercased()) else { throw TranscodingError(.invalid, "\(path): must be one of \(allowed)") }
        return value
    }

    // MARK: Numbers

    private static func integerText(_ value: JSONValue, at path: String) throws(TranscodingError) -> String {
        guard case .number(let text) = value else { throw TranscodingError.wrongType(path, "an integer") }
        return text
    }

    private static func signed(_ text: String, in range: ClosedRange<Int64>, at path: String) throws(TranscodingError) -> Int64 {
        guard let value = Int64(text) else { throw TranscodingError.wrongType(path, "an integer") }
        guard range.contains(value) else { throw TranscodingError(.invalid, "\(path): \(value) is out of range") }
        return value
    }

    private static func unsigned(_ text: String, at path: String) throws(TranscodingError) -> UInt64 {
        guard let value = UInt64(text) else { throw TranscodingError.wrongType(path, "a non-negative integer") }
        return value
    }

    private static func finite(_ text: String, at path: String) throws(TranscodingError) -> Double {
        guard let value = Double(text) else { throw TranscodingError.wrongType(path, "a number") }
        guard value.isFinite else { throw TranscodingError(.invalid, "\(path): is out of range") }
        return value
    }

    /// Integer cents from a decimal with at most two decimals; never
    /// through floating point, so `19.99` is exactly 1999.
    public static func cents(_ text: String, at path: String) throws(TranscodingError) -> Int64 {
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
}
