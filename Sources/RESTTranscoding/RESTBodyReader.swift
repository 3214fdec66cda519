import Foundation
import NIOCore
import SwiftProtobuf

/// A streaming pull reader over a request body's bytes, which the generated
/// `mergeREST(from:at:)` of each message reads its fields from straight into
/// the typed message: no tree of JSON values, no copy of the body.
///
/// The contract matches what ``JSONParser`` enforces (RFC 8259, strictly):
/// - ``JSONParser/Limits`` bound the document as it is read: depth (a
///   container inside `maximumDepth` others is refused before it is
///   entered, so neither the reader nor the generated code recurses
///   without bound), members per object and values per document, unknown
///   members and skipped values counted like any other. Over a limit is
///   ``TranscodingError/Kind/tooLarge`` (413); not JSON is
///   ``TranscodingError/Kind/malformed`` (400), with the byte offset, as the
///   parser words them.
/// - A value of the wrong JSON type is ``TranscodingError/Kind/wrongType``
///   (400), a known field given as null too; the conversions of
///   ``RESTRead`` decide the rest (outside its domain: 422).
/// - A repeated member name is read again: the last value wins, as with the
///   parser's tree.
///
/// The reader stops at the first error; ``RESTRequestInput/readBody(_:)``
/// then checks the rest of the document so that a malformed or over-limit
/// document is reported as such whatever field error came first, as when
/// the whole document was parsed before any field was read.
public struct RESTBodyReader {
    /// The JSON type of the next value, from its first byte.
    public enum Token: Sendable, Hashable {
        case object, array, string, number, bool, null
    }

    /// The body's readable bytes, valid only inside ``read(_:limits:_:)``.
    private let bytes: UnsafeBufferPointer<UInt8>
    private let limits: JSONParser.Limits
    private var index = 0
    /// Containers entered and not yet left.
    private var depth = 0
    private var values = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, limits: JSONParser.Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Runs `work` with a reader over `body`'s readable bytes, in place (the
    /// reader lives only as long as `work` runs).
    public static func read<Value>(
        _ body: ByteBuffer,
        limits: JSONParser.Limits = .standard,
        _ work: (inout RESTBodyReader) throws(TranscodingError) -> Value
    ) throws(TranscodingError) -> Value {
        let result = body.withUnsafeReadableBytes { raw -> Result<Value, TranscodingError> in
            var reader = RESTBodyReader(raw.bindMemory(to: UInt8.self), limits: limits)
            do throws(TranscodingError) {
                return .success(try work(&reader))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: Document

    /// True when nothing but whitespace is left (a body of only blanks is
    /// no body). Skips that whitespace.
    public mutating func isBlank() -> Bool {
        skipWhitespace()
        return index == bytes.endIndex
    }

    /// After the one value of the document: only whitespace may follow.
    public mutating func finish() throws(TranscodingError) {
        skipWhitespace()
        guard index == bytes.endIndex else { throw malformed("unexpected data after the value") }
    }

    /// Reads a whole document without keeping anything: its first
    /// structural error (malformed, over a limit), if any.
    public mutating func skipDocument() throws(TranscodingError) {
        try skipValue()
        try finish()
    }

    // MARK: Structure

    /// The type of the next value (whitespace before it skipped); malformed
    /// when there is none or it cannot start a value.
    public mutating func peek() throws(TranscodingError) -> Token {
        skipWhitespace()
        guard index < bytes.endIndex else { throw malformed("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw malformed("unexpected character")
        }
    }

    /// A whole request body (`body: "*"`) must be an object.
    public mutating func bodyObject() throws(TranscodingError) {
        guard try peek() == .object else { throw TranscodingError(.wrongType, "the body must be a JSON object") }
    }

    /// A known field's value must not be null (the document declares no
    /// field nullable: leave it out instead).
    public mutating func field(at path: String) throws(TranscodingError) {
        if try peek() == .null { throw TranscodingError.wrongType(path, "a value, not null (leave the field out instead)") }
    }

    /// Consumes a null if one is next: true when it did.
    public mutating func skipNull() throws(TranscodingError) -> Bool {
        guard try peek() == .null else { return false }
        try countValue()
        try literal("null")
        return true
    }

    /// Enters the object that must come next.
    public mutating func beginObject(at path: String) throws(TranscodingError) {
        guard try peek() == .object else { throw TranscodingError.wrongType(path, "an object") }
        try enterContainer()
    }

    /// The name of the object's next member, positioned at its value; `nil`
    /// once the object is closed. `members` counts the object's members
    /// (start at 0).
    public mutating func nextMember(_ members: inout Int) throws(TranscodingError) -> String? {
        skipWhitespace()
        guard index < bytes.endIndex else { throw malformed(members == 0 ? "expected a member name" : "unexpected end of input") }
        if members == 0 {
            if bytes[index] == UInt8(ascii: "}") { return leaveContainer() }
        } else {
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): return leaveContainer()
            default: throw malformed("expected ',' or '}'")
            }
            skipWhitespace()
        }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else { throw malformed("expected a member name") }
        members += 1
        guard members <= limits.maximumMembers else {
            throw limitExceeded("more than \(limits.maximumMembers) members in one object")
        }
        let name = try string()
        skipWhitespace()
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ":") else { throw malformed("expected ':'") }
        index += 1
        return name
    }

    /// Enters the array that must come next.
    public mutating func beginArray(at path: String) throws(TranscodingError) {
        guard try peek() == .array else { throw TranscodingError.wrongType(path, "an array") }
        try enterContainer()
    }

    /// True when the array has another element (positioned at it), false
    /// once it is closed. `elements` counts them (start at 0).
    public mutating func nextElement(_ elements: inout Int) throws(TranscodingError) -> Bool {
        skipWhitespace()
        guard index < bytes.endIndex else { throw malformed("unexpected end of input") }
        if elements == 0 {
            if bytes[index] == UInt8(ascii: "]") {
                _ = leaveContainer()
                return false
            }
        } else {
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                _ = leaveContainer()
                return false
            default: throw malformed("expected ',' or ']'")
            }
        }
        elements += 1
        return true
    }

    /// Reads past the next value, whatever it is, checking it as strictly
    /// as any other (an unknown member's value).
    public mutating func skipValue() throws(TranscodingError) {
        switch try peek() {
        case .object:
            try enterContainer()
            var members = 0
            while try nextMember(&members) != nil { try skipValue() }
        case .array:
            try enterContainer()
            var elements = 0
            while try nextElement(&elements) { try skipValue() }
        case .string:
            try countValue()
            try skipString()
        case .number:
            try countValue()
            try number()
        case .bool:
            try countValue()
            try literal(bytes[index] == UInt8(ascii: "t") ? "true" : "false")
        case .null:
            try countValue()
            try literal("null")
        }
    }

    // MARK: Typed values

    /// A repeated field: an array whose items are not null, each read by `element`.
    public mutating func repeated<Element>(
        at path: String,
        _ element: (inout RESTBodyReader, String) throws(TranscodingError) -> Element
    ) throws(TranscodingError) -> [Element] {
        try beginArray(at: path)
        var items: [Element] = []
        var count = 0
        while try nextElement(&count) {
            let itemPath = "\(path)[\(count - 1)]"
            if try peek() == .null { throw TranscodingError.wrongType(itemPath, "a value, not null") }
            items.append(try element(&self, itemPath))
        }
        return items
    }

    /// A nested message: an object, merged into a new message.
    public mutating func message<Message: RESTMessage>(at path: String, as type: Message.Type = Message.self) throws(TranscodingError) -> Message {
        var message = Message()
        try message.mergeREST(from: &self, at: path)
        return message
    }

    public mutating func string(at path: String) throws(TranscodingError) -> String {
        guard try peek() == .string else { throw TranscodingError.wrongType(path, "a string") }
        try countValue()
        return try string()
    }

    public mutating func bool(at path: String) throws(TranscodingError) -> Bool {
        guard try peek() == .bool else { throw TranscodingError.wrongType(path, "true or false") }
        try countValue()
        let flag = bytes[index] == UInt8(ascii: "t")
        try literal(flag ? "true" : "false")
        return flag
    }

    public mutating func int32(at path: String) throws(TranscodingError) -> Int32 {
        try RESTRead.int32(text: integerText(at: path), at: path)
    }

    public mutating func uint32(at path: String) throws(TranscodingError) -> UInt32 {
        try RESTRead.uint32(text: integerText(at: path), at: path)
    }

    public mutating func int64(at path: String) throws(TranscodingError) -> Int64 {
        try RESTRead.int64(text: integerText(at: path), at: path)
    }

    public mutating func uint64(at path: String) throws(TranscodingError) -> UInt64 {
        try RESTRead.uint64(text: integerText(at: path), at: path)
    }

    public mutating func double(at path: String) throws(TranscodingError) -> Double {
        try RESTRead.finite(numberText(at: path, expected: "a number"), at: path)
    }

    /// Money: a decimal number with at most two decimals, as integer cents.
    public mutating func money(at path: String) throws(TranscodingError) -> Int64 {
        try RESTRead.cents(numberText(at: path, expected: "a number"), at: path)
    }

    /// Bytes: base64 (standard or URL-safe, padding optional), as protobuf's JSON mapping has them.
    public mutating func bytes(at path: String) throws(TranscodingError) -> Data {
        try RESTRead.bytes(text: string(at: path), at: path)
    }

    public mutating func timestamp(at path: String) throws(TranscodingError) -> Google_Protobuf_Timestamp {
        try RESTRead.timestamp(text: string(at: path), at: path)
    }

    /// An enum value by its REST name (any case); see ``RESTRead/enumeration(text:at:allowed:_:)``.
    public mutating func enumeration(at path: String, allowed: String, _ number: (String) -> Int?) throws(TranscodingError) -> Int {
        try RESTRead.enumeration(text: string(at: path), at: path, allowed: allowed, number)
    }

    // MARK: Tokens

    private func offset() -> Int { index }

    private func malformed(_ reason: String) -> TranscodingError {
        TranscodingError(.malformed, "malformed JSON at byte \(offset()): \(reason)")
    }

    private func limitExceeded(_ reason: String) -> TranscodingError {
        TranscodingError(.tooLarge, "JSON over a limit at byte \(offset()): \(reason)")
    }

    private mutating func countValue() throws(TranscodingError) {
        values += 1
        guard values <= limits.maximumValues else {
            throw limitExceeded("more than \(limits.maximumValues) values in one document")
        }
    }

    /// At `{` or `[`: counts the value, refuses one nested too deep, steps in.
    private mutating func enterContainer() throws(TranscodingError) {
        try countValue()
        guard depth < limits.maximumDepth else { throw limitExceeded("nested deeper than \(limits.maximumDepth) levels") }
        depth += 1
        index += 1
    }

    private mutating func leaveContainer() -> String? {
        depth -= 1
        index += 1
        return nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.endIndex {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(TranscodingError) {
        let count = word.utf8CodeUnitCount
        guard bytes.endIndex - index >= count else { throw malformed("unexpected character") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw malformed("unexpected character")
        }
        index += count
    }

    private mutating func integerText(at path: String) throws(TranscodingError) -> String {
        try numberText(at: path, expected: "an integer")
    }

    /// The next number's text as written (validated as a JSON number).
    private mutating func numberText(at path: String, expected: String) throws(TranscodingError) -> String {
        guard try peek() == .number else { throw TranscodingError.wrongType(path, expected) }
        try countValue()
        let start = index
        try number()
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    /// Past a number (``JSONScanner/number(_:_:)``).
    private mutating func number() throws(TranscodingError) {
        let bytes = self.bytes
        do { try JSONScanner.number(bytes, &index) } catch { throw malformed(error.reason) }
    }

    /// Past a string, checked as ``string()`` checks it, nothing kept.
    private mutating func skipString() throws(TranscodingError) {
        let quote = index
        index += 1
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 {
                // The rare string with escapes: decoded to check them.
                index = quote
                _ = try string()
                return
            }
            index += 1
        }
        throw malformed("unterminated string")
    }

    /// At `"`: the string's text (``JSONScanner/string(_:_:)``).
    private mutating func string() throws(TranscodingError) -> String {
        let bytes = self.bytes
        do { return try JSONScanner.string(bytes, &index) } catch { throw malformed(error.reason) }
    }
}
