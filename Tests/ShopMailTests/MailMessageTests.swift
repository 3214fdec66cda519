import Foundation
import ShopMail
import Testing

@Suite("Mail message")
struct MailMessageTests {
    func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
    }

    @Test("plain ASCII header text stays as it is; anything else becomes UTF-8 encoded words")
    func encodedWords() {
        #expect(MIMEEncoding.encodedWords("Your order is confirmed") == "Your order is confirmed")
        #expect(MIMEEncoding.encodedWords("Grüße") == "=?UTF-8?B?R3LDvMOfZQ==?=")
        // Text that looks like an encoded word is encoded, not passed as one.
        #expect(MIMEEncoding.encodedWords("=?x?=").hasPrefix("=?UTF-8?B?"))
    }

    @Test("long non-ASCII text is split into words of at most 64 characters, never inside a character")
    func longEncodedWords() throws {
        let text = String(repeating: "Zoë ✓ ", count: 30)
        let folded = MIMEEncoding.encodedWords(text)
        let words = folded.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = ""
        for word in words {
            #expect(word.count <= 64)
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            let bytes = try #require(Data(base64Encoded: String(payload)))
            decoded += try #require(String(data: bytes, encoding: .utf8))
        }
        #expect(decoded == text)
    }

    @Test("quoted-printable keeps lines within 76 characters, encodes '=' and non-ASCII, and round-trips")
    func quotedPrintable() {
        let text = String(repeating: "Zoë paid 5 = five ", count: 20) + "\nnext line \n"
        let encoded = MIMEEncoding.quotedPrintable(text)
        for line in encoded.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 76) }
        #expect(encoded.contains("=C3=AB"))
        #expect(encoded.contains("=3D"))
        // A blank before a line break is encoded (gateways strip it).
        #expect(encoded.contains("line=20\r\n"))
    }

    @Test("a display name that is not plain ASCII is an encoded word; a plain one is quoted")
    func addresses() throws {
        #expect(try MailAddress("ada@example.com", name: "Ada \"Countess\" Lovelace").header == #""Ada \"Countess\" Lovelace" <ada@example.com>"#)
        #expect(try MailAddress("zoe@example.com", name: "Zoë").header == "=?UTF-8?B?Wm/Dqw==?= <zoe@example.com>")
        #expect(try MailAddress("zoe@example.com", name: "Evil\r\nBcc: x@y.z").name == "EvilBcc: x@y.z")
        #expect(throws: SMTPError.self) { _ = try MailAddress("not-an-address") }
        #expect(throws: SMTPError.self) { _ = try MailAddress("a@b.c>, <d@e.f") }
    }

    @Test("a message has the RFC 5322 headers and a multipart/alternative body of text and HTML, in CRLF lines")
    func structure() throws {
        let message = MailMessage(
            from: try MailAddress("shop@example.com", name: "Shop"),
            to: [try MailAddress("zoe@example.com", name: "Zoë")],
            subject: "Bestätigung", text: "Hello Zoë\n", html: "<p>Hello Zoë</p>",
            date: Date(timeIntervalSince1970: 1_796_000_000), messageID: "n-1@example.com"
        )
        let bytes = message.rendered(boundary: "=_b")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(bytes.allSatisfy { $0 < 128 })
        let all = lines(bytes)
        #expect(all.allSatisfy { $0.utf8.count <= 78 })
        #expect(all.contains("Date: Mon, 30 Nov 2026 00:53:20 +0000"))
        #expect(all.contains("From: \"Shop\" <shop@example.com>"))
        #expect(all.contains("To: =?UTF-8?B?Wm/Dqw==?= <zoe@example.com>"))
        #expect(all.contains("Subject: =?UTF-8?B?QmVzdMOkdGlndW5n?="))
        #expect(all.contains("Message-ID: <n-1@example.com>"))
        #expect(all.contains("MIME-Version: 1.0"))
        #expect(text.contains("Content-Type: multipart/alternative;\r\n boundary=\"=_b\""))
        #expect(text.contains("--=_b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello Zo=C3=AB\r\n"))
        #expect(text.contains("--=_b\r\nContent-Type: text/html; charset=utf-8"))
        #expect(text.hasSuffix("--=_b--\r\n"))
    }
}
