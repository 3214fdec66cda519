import Foundation

/// The encodings a mail message needs to carry UTF-8 text through SMTP's
/// 7-bit, 998-octet-line world: base64 and quoted-printable bodies (RFC
/// 2045) and encoded words in headers (RFC 2047).
public enum MIMEEncoding {
    /// Body lines stay at 76 characters (RFC 2045), far inside SMTP's 998.
    public static let maximumBodyLineLength = 76

    public static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Base64 in lines of 76 characters, each ending in CRLF.
    public static func base64Lines(_ bytes: [UInt8]) -> String {
        let encoded = Array(base64(bytes).utf8)
        var out = ""
        var start = 0
        while start < encoded.count {
            let end = min(start + maximumBodyLineLength, encoded.count)
            out += String(decoding: encoded[start..<end], as: UTF8.self) + "\r\n"
            start = end
        }
        return out
    }

    /// `text` as quoted-printable UTF-8: printable ASCII as it is (but
    /// `=`), everything else as `=XX`; each line break of `text` becomes
    /// CRLF; blanks before a line break are encoded (gateways strip them);
    /// lines longer than 76 characters are broken with soft breaks (`=`
    /// at the end of a line). The result ends with CRLF.
    public static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines {
            let bytes = Array(line.utf8)
            var lineLength = 0
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                var token: [UInt8]
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
                if literal {
                    token = [byte]
                } else {
                    token = [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                }
                // Room for the token and, unless this is the end of the
                // line, a soft break after it.
                let room = maximumBodyLineLength - (isLast ? 0 : 1)
                if lineLength + token.count > room {
                    out.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\r"), UInt8(ascii: "\n")])
                    lineLength = 0
                }
                out.append(contentsOf: token)
                lineLength += token.count
            }
            out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` may stand in a header as it is: printable ASCII and
    /// blanks, and nothing that looks like an encoded word.
    public static func isPlainHeaderText(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 32 && $0 < 127 } && !text.contains("=?")
    }

    /// `text` for an unstructured header (Subject) or a display name:
    /// as it is when ``isPlainHeaderText(_:)``, else as UTF-8 base64
    /// encoded words (`=?UTF-8?B?...?=`) of at most 64 characters each,
    /// split between characters, never inside one, and folded onto
    /// continuation lines (CRLF and a blank) so no header line grows long.
    public static func encodedWords(_ text: String) -> String {
        if isPlainHeaderText(text) { return text }
        // 39 bytes make 52 characters of base64, a 64-character word: with
        // "Subject: " before it the line stays within 78 (RFC 5322 §2.1.1).
        let maximumBytes = 39
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            // Controls (CR, LF) never reach a header, not even encoded.
            let bytes = Array(String(character).utf8).filter { $0 >= 32 && $0 != 127 }
            if chunk.count + bytes.count > maximumBytes, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(base64(chunk))?=")
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(base64(chunk))?=") }
        return words.joined(separator: "\r\n ")
    }
}
