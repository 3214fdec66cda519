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

    /// A string's text (``JSONScanner/string(_:_:)``).
    private mutating func string() throws(Failure) -> String {
        let bytes = self.bytes
        do { return try JSONScanner.string(bytes, &index) } catch { throw failure(error.reason) }
    }

    /// A number's text as written (``JSONScanner/number(_:_:)``).
    private mutating func number() throws(Failure) -> String {
        let bytes = self.bytes
        let start = index
        do { try JSONScanner.number(bytes, &index) } catch { throw failure(error.reason) }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }
}
