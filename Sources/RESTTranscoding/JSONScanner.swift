/// The JSON tokens whose grammar is the same wherever JSON is read: string
/// text with its escapes and the number syntax. ``JSONParser`` (a tree) and
/// ``RESTBodyReader`` (a pull reader) both scan them here, so the two can
/// never disagree on what a string or a number is.
enum JSONScanner {
    /// Why a token is not valid JSON; the caller adds the offset (the
    /// index it passed in, left where the fault is) and its own error type.
    struct Malformed: Error {
        let reason: String
    }

    /// At `"`: the string's text, and `index` past its closing quote. One
    /// pass to the closing quote, decoded at once when it has no escapes
    /// (the common case), else copied byte by byte with each escape written
    /// as UTF-8.
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) throws(Malformed) -> String {
        index += 1
        let start = index
        while index < bytes.endIndex {
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
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.endIndex else { throw Malformed(reason: "unexpected end of input") }
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
                    var code = try hex4(bytes, &index)
                    if (0xD800..<0xDC00).contains(code) {
                        guard bytes.endIndex - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw Malformed(reason: "unpaired surrogate")
                        }
                        index += 2
                        let low = try hex4(bytes, &index)
                        guard (0xDC00..<0xE000).contains(low) else { throw Malformed(reason: "unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw Malformed(reason: "invalid \\u escape") }
                    UTF8.encode(scalar) { decoded.append($0) }
                default:
                    throw Malformed(reason: "invalid escape")
                }
            case 0..<0x20:
                throw Malformed(reason: "control character in string")
            default:
                decoded.append(byte)
                index += 1
            }
        }
        throw Malformed(reason: "unterminated string")
    }

    /// At a number's first byte: `index` past it, the number being
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) throws(Malformed) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.endIndex else { throw Malformed(reason: "invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
            digits(bytes, &index)
        } else {
            throw Malformed(reason: "invalid number")
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let first = index
            digits(bytes, &index)
            guard index > first else { throw Malformed(reason: "invalid number") }
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let first = index
            digits(bytes, &index)
            guard index > first else { throw Malformed(reason: "invalid number") }
        }
    }

    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) {
        while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) throws(Malformed) -> UInt32 {
        guard bytes.endIndex - index >= 4 else { throw Malformed(reason: "short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw Malformed(reason: "invalid \\u escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }
}
