import NIOCore

/// A strict JSON parser (RFC 8259) producing ``JSONValue``, built to take
/// hostile input at a cost linear in its size.
///
/// Why each bound exists:
/// - Duplicate member names are found by hashing (a linear scan only while
///   an object is small), so an object of 100,000 distinct keys costs
///   100,000 lookups rather than five billion comparisons. A repeated name
///   keeps its first position and its last value.
/// - ``Limits`` caps nesting depth (the parser recurses: no stack
///   exhaustion), members per object and values per document, so what a
///   document may ask of everything after the parser (transcoding,
///   serializing) is bounded too. A document over a limit is refused as
///   soon as the limit is passed, with a ``Failure`` of kind
///   ``Failure/Kind/limitExceeded`` naming it (the gateway answers 413);
///   anything else wrong is ``Failure/Kind/malformed`` (400), with the byte
///   offset of the first error.
///
/// The bench `json-bench` prints the time per MiB of worst-case documents
/// of several shapes beside Foundation's `JSONSerialization`.
public struct JSONParser {
    /// How much structure one document may have.
    public struct Limits: Sendable, Hashable {
        /// Containers inside containers; the top level is depth 0.
        public var maximumDepth: Int
        /// Members one object may list (repeated names counted each time).
        public var maximumMembers: Int
        /// Values in the whole document: every scalar, array and object.
        public var maximumValues: Int

        public init(maximumDepth: Int, maximumMembers: Int, maximumValues: Int) {
            self.maximumDepth = maximumDepth
            self.maximumMembers = maximumMembers
            self.maximumValues = maximumValues
        }

        /// For what callers send: far above any request of the API (an
        /// order's items, a product), far below what would cost anything.
        /// Each value is an allocation, so values bound a document's cost
        /// whatever its bytes are.
        public static let standard = Limits(maximumDepth: 64, maximumMembers: 1_000, maximumValues: 10_000)
        /// For documents our own services produced (responses of up to a
        /// thousand records): only the depth is bounded.
        public static let trusted = Limits(maximumDepth: 64, maximumMembers: .max, maximumValues: .max)
    }

    public struct Failure: Error, Hashable, CustomStringConvertible, Sendable {
        public enum Kind: Sendable, Hashable {
            /// Not JSON.
            case malformed
            /// JSON with more structure than ``Limits`` allows.
            case limitExceeded
        }

        public let offset: Int
        public let reason: String
        public let kind: Kind

        public init(offset: Int, reason: String, kind: Kind = .malformed) {
            self.offset = offset
            self.reason = reason
            self.kind = kind
        }

        public var description: String {
            switch kind {
            case .malformed: "malformed JSON at byte \(offset): \(reason)"
            case .limitExceeded: "JSON over a limit at byte \(offset): \(reason)"
            }
        }
    }

    public static let maximumDepth = Limits.standard.maximumDepth

    /// Below this many members an object finds repeated names by scanning;
    /// from here on by its index of names.
    private static let linearScanMembers = 8

    private let bytes: UnsafeBufferPointer<UInt8>
    private let limits: Limits
    private var index = 0
    private var values = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, limits: Limits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// A document in a `ByteBuffer` (a request body), parsed in place.
    public static func parse(_ buffer: ByteBuffer, limits: Limits = .standard) throws(Failure) -> JSONValue {
        let result = buffer.withUnsafeReadableBytes { raw -> Result<JSONValue, Failure> in
            var parser = JSONParser(raw.bindMemory(to: UInt8.self), limits: limits)
            do {
                return .success(try parser.document())
            } catch {
                return .failure(error as? Failure ?? Failure(offset: 0, reason: "\(error)"))
            }
        }
        return try result.get()
    }

    public static func parse(_ bytes: some Collection<UInt8>, limits: Limits = .standard) throws(Failure) -> JSONValue {
        let array = Array(bytes)
        let result = array.withUnsafeBufferPointer { buffer -> Result<JSONValue, Failure> in
            var parser = JSONParser(buffer, limits: limits)
            do {
                return .success(try parser.document())
            } catch {
                // `document()` throws only `Failure`.
                return .failure(error as? Failure ?? Failure(offset: 0, reason: "\(error)"))
            }
        }
        return try result.get()
    }

    /// The one value the whole input must be.
    private mutating func document() throws(Failure) -> JSONValue {
        skipWhitespace()
        let value = try value(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected data after the value") }
        return value
    }

    private func failure(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    private func limitExceeded(_ reason: String) -> Failure { Failure(offset: index, reason: reason, kind: .limitExceeded) }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw failure("unexpected end of input") }
        values += 1
        guard values <= limits.maximumValues else {
            throw limitExceeded("more than \(limits.maximumValues) values in one document")
        }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < limits.maximumDepth else { throw limitExceeded("nested deeper than \(limits.maximumDepth) levels") }
            return try object(depth: depth)
        case UInt8(ascii: "["):
            guard depth < limits.maximumDepth else { throw limitExceeded("nested deeper than \(limits.maximumDepth) levels") }
            return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw failure("unexpected character") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw failure("unexpected character")
        }
        index += count
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        // Built once the object outgrows a linear scan.
        var positions: [String: Int]?
        var parsed = 0
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            parsed += 1
            guard parsed <= limits.maximumMembers else {
                throw limitExceeded("more than \(limits.maximumMembers) members in one object")
            }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            let member = try value(depth: depth + 1)

            let existing: Int?
            if let known = positions {
                existing = known[key]
            } else {
                existing = members.firstIndex { $0.key == key }
            }
            if let existing {
                members[existing].value = member
            } else {
                members.append((key, member))
                if positions != nil {
                    positions![key] = members.count - 1
                } else if members.count >= Self.linearScanMembers {
                    var byName: [String: Int] = [:]
                    byName.reserveCapacity(members.count * 2)
                    for (position, member) in members.enumerated() { byName[member.key] = position }
                    positions = byName
                }
            }

            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw failure("expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw failure("expected ',' or ']'")
        }
    }

    /// A string: one pass to its closing quote, decoded at once when it has
    /// no escapes (the common case), else copied byte by byte with each
    /// escape written as UTF-8.
    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        var decoded = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw failure("unexpected end of input") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): decoded.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): decoded.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): decoded.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw failure("unpaired surrogate")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure("invalid \\u escape") }
                    UTF8.encode(scalar) { decoded.append($0) }
                default:
                    throw failure("invalid escape")
                }
            case 0..<0x20:
                throw failure("control character in string")
            default:
                decoded.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    private mutating func digits() {
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
    }

    private mutating func number() throws(Failure) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw failure("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
            digits()
        } else {
            throw failure("invalid number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let first = index
            digits()
            guard index > first else { throw failure("invalid number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let first = index
            digits()
            guard index > first else { throw failure("invalid number") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }
}
