/// One SMTP reply (RFC 5321 §4.2): a three-digit code and its text lines.
///
/// A multi-line reply repeats the code on every line with `-` after it on
/// all but the last (`250-SIZE`, `250 HELP`); ``lines`` holds the text of
/// each line without the code.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public let code: Int
    public let lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 3xx: the server waits for more (354 after DATA, 334 in AUTH).
    public var isIntermediate: Bool { (300..<400).contains(code) }
    /// 4xx: try again later.
    public var isTransient: Bool { (400..<500).contains(code) }
    /// 5xx: refused for good.
    public var isPermanent: Bool { (500..<600).contains(code) }

    /// The text, lines joined by a blank.
    public var text: String { lines.joined(separator: " ") }

    public var description: String { lines.isEmpty ? "\(code)" : "\(code) \(text)" }
}

/// Turns the bytes a server sends into ``SMTPReply`` values: a pure parser
/// with no I/O, fed whatever arrived and asked for the replies complete so
/// far.
///
/// It refuses what no SMTP server sends rather than guessing: a line that
/// does not start with three digits and a blank or `-`, a continuation line
/// whose code differs from the first, a line longer than
/// ``maximumLineLength`` (RFC 5321 allows 512 octets; a little slack is
/// kept) or a reply of more than ``maximumLines`` lines. Lines end with
/// CRLF; a bare LF is accepted too.
public struct SMTPReplyParser: Sendable {
    public static let maximumLineLength = 2_048
    public static let maximumLines = 100

    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        case malformedLine(String)
        case codeChanged(expected: Int, got: Int)
        case lineTooLong
        case tooManyLines

        public var description: String {
            switch self {
            case .malformedLine(let line): return "malformed SMTP reply line '\(line.prefix(80))'"
            case .codeChanged(let expected, let got): return "SMTP reply code changed from \(expected) to \(got) within one reply"
            case .lineTooLong: return "SMTP reply line longer than \(SMTPReplyParser.maximumLineLength) bytes"
            case .tooManyLines: return "SMTP reply of more than \(SMTPReplyParser.maximumLines) lines"
            }
        }
    }

    private var buffer: [UInt8] = []
    private var pendingCode: Int?
    private var pendingLines: [String] = []

    public init() {}

    /// Adds received bytes; returns the replies they completed, in order.
    /// After an error the parser is spent (the connection must close).
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws(ParseError) -> [SMTPReply] where Bytes.Element == UInt8 {
        var replies: [SMTPReply] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if buffer.last == UInt8(ascii: "\r") { buffer.removeLast() }
                let line = buffer
                buffer.removeAll(keepingCapacity: true)
                if let reply = try accept(line) { replies.append(reply) }
            } else {
                buffer.append(byte)
                if buffer.count > Self.maximumLineLength { throw .lineTooLong }
            }
        }
        return replies
    }

    /// Whether part of a reply has arrived but not its last line.
    public var isMidReply: Bool { pendingCode != nil || !buffer.isEmpty }

    private mutating func accept(_ line: [UInt8]) throws(ParseError) -> SMTPReply? {
        let text = String(decoding: line, as: UTF8.self)
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        guard line.count >= 3, line[0..<3].allSatisfy(digits.contains), (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(line[0]) else {
            throw .malformedLine(text)
        }
        let code = Int(line[0] - 48) * 100 + Int(line[1] - 48) * 10 + Int(line[2] - 48)
        let isLast: Bool
        if line.count == 3 {
            isLast = true
        } else if line[3] == UInt8(ascii: " ") {
            isLast = true
        } else if line[3] == UInt8(ascii: "-") {
            isLast = false
        } else {
            throw .malformedLine(text)
        }
        if let pendingCode, pendingCode != code { throw .codeChanged(expected: pendingCode, got: code) }
        pendingCode = code
        pendingLines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        if pendingLines.count > Self.maximumLines { throw .tooManyLines }
        guard isLast else { return nil }
        defer {
            pendingCode = nil
            pendingLines = []
        }
        return SMTPReply(code: code, lines: pendingLines)
    }
}
