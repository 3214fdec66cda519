import Foundation

/// An email as RFC 5322 and MIME want it: headers (Date, From, To,
/// Subject, Message-ID, MIME-Version) and a `multipart/alternative` body
/// with a plain-text part and, when given, an HTML part (the reader shows
/// the last one it can), both UTF-8 in quoted-printable. Every line ends
/// in CRLF and none is longer than 78 characters but for an unbreakable
/// header token.
public struct MailMessage: Sendable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var subject: String
    public var text: String
    public var html: String?
    public var date: Date
    /// Without angle brackets: `<id>@<from's domain>` unless set.
    public var messageID: String

    public init(from: MailAddress, to: [MailAddress], subject: String, text: String, html: String? = nil, date: Date = Date(), messageID: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.date = date
        self.messageID = messageID ?? "\(UUID().uuidString.lowercased())@\(from.domain)"
    }

    /// The message as sent: headers, blank line, body.
    public func rendered(boundary: String = "=_shop_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))") -> [UInt8] {
        var lines: [String] = [
            "Date: \(Self.dateHeader(date))",
            "From: \(from.header)",
            "To: \(to.map(\.header).joined(separator: ",\r\n "))",
            "Subject: \(MIMEEncoding.encodedWords(subject))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
        ]
        var body = ""
        if let html {
            lines.append("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"")
            body += "This is a message in MIME format.\r\n"
            body += "--\(boundary)\r\n" + Self.part(type: "text/plain", text)
            body += "--\(boundary)\r\n" + Self.part(type: "text/html", html)
            body += "--\(boundary)--\r\n"
        } else {
            lines.append("Content-Type: text/plain; charset=utf-8")
            lines.append("Content-Transfer-Encoding: quoted-printable")
            body = MIMEEncoding.quotedPrintable(text)
        }
        let message = lines.joined(separator: "\r\n") + "\r\n\r\n" + body
        return Array(message.utf8)
    }

    private static func part(type: String, _ content: String) -> String {
        "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + MIMEEncoding.quotedPrintable(content)
    }

    /// RFC 5322 §3.3: `Tue, 01 Dec 2026 18:34:29 +0000`, always in UTC.
    static func dateHeader(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
