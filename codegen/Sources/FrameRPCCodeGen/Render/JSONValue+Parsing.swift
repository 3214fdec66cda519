extension JSONValue {
    /// Parses one JSON text (an example written in a `.proto` option) into a
    /// value whose objects keep their members in the order written, so the
    /// document renders the same bytes every time.
    ///
    /// - Throws: ``JSONValue/ParseError`` naming what is wrong and where.
    static func parse(_ text: String) throws -> JSONValue {
        var parser = Parser(Array(text.utf8))
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.error("text after the value") }
        return value
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    private struct Parser {
        private let bytes: [UInt8]
        private var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { offset == bytes.count }

        func error(_ problem: String) -> ParseError {
            ParseError(description: "not valid JSON: \(problem) at byte \(offset)")
        }

        mutating func skipWhitespace() {
            while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 32 else { throw error("nested too deeply") }
            skipWhitespace()
            guard offset < bytes.count else { throw error("a value is missing") }
            switch bytes[offset] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return try number()
            }
        }

        private mutating func literal(_ word: String) throws {
            let expected = Array(word.utf8)
            guard bytes.count - offset >= expected.count, Array(bytes[offset..<offset + expected.count]) == expected else {
                throw error("unexpected character")
            }
            offset += expected.count
        }

        private mutating func object(depth: Int) throws -> JSONValue {
            offset += 1
            var members: [(String, JSONValue)] = []
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("an object key must be a string") }
                let key = try string()
                if members.contains(where: { $0.0 == key }) { throw error("duplicate key \"\(key)\"") }
                skipWhitespace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw error("':' expected") }
                offset += 1
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard offset < bytes.count else { throw error("unterminated object") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "}") { offset += 1; return .object(members) }
                throw error("',' or '}' expected")
            }
        }

        private mutating func array(depth: Int) throws -> JSONValue {
            offset += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard offset < bytes.count else { throw error("unterminated array") }
                if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
                throw error("',' or ']' expected")
            }
        }

        private mutating func string() throws -> String {
            offset += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() throws {
                guard !raw.isEmpty else { return }
                guard let text = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8") }
                scalars.append(contentsOf: text.unicodeScalars)
                raw.removeAll()
            }
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                switch byte {
                case UInt8(ascii: "\""):
                    try flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    try flush()
                    guard offset < bytes.count else { break }
                    let escape = bytes[offset]
                    offset += 1
                    switch escape {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "b"): scalars.append("\u{8}")
                    case UInt8(ascii: "f"): scalars.append("\u{c}")
                    case UInt8(ascii: "u"):
                        guard bytes.count - offset >= 4,
                              let code = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(code) else { throw error("bad \\u escape (surrogates are not supported)") }
                        offset += 4
                        scalars.append(scalar)
                    default:
                        throw error("bad escape")
                    }
                case 0..<0x20:
                    throw error("control character in a string")
                default:
                    raw.append(byte)
                }
            }
            throw error("unterminated string")
        }

        private mutating func number() throws -> JSONValue {
            let start = offset
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            var isInteger = true
            while offset < bytes.count {
                let byte = bytes[offset]
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    offset += 1
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                            || byte == UInt8(ascii: "+") || (byte == UInt8(ascii: "-") && offset > start) {
                    isInteger = false
                    offset += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<offset], as: UTF8.self)
            if isInteger, let integer = Int(text) { return .integer(integer) }
            guard !text.isEmpty, let number = Double(text), number.isFinite else { throw error("unexpected character") }
            // Kept as written: 17.50 stays 17.50 in the document.
            return .decimal(text)
        }
    }
}
