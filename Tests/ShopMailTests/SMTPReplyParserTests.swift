import ShopMail
import Testing

@Suite("SMTP reply parser")
struct SMTPReplyParserTests {
    @Test("a one-line reply is parsed into its code and text")
    func singleLine() throws {
        var parser = SMTPReplyParser()
        let replies = try parser.feed(Array("220 mail.example.com ESMTP ready\r\n".utf8))
        #expect(replies == [SMTPReply(code: 220, lines: ["mail.example.com ESMTP ready"])])
    }

    @Test("a multi-line reply is one reply with every line's text")
    func multiLine() throws {
        var parser = SMTPReplyParser()
        let replies = try parser.feed(Array("250-mail.example.com\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n".utf8))
        #expect(replies == [SMTPReply(code: 250, lines: ["mail.example.com", "STARTTLS", "AUTH PLAIN LOGIN"])])
    }

    @Test("bytes split anywhere give the same replies")
    func splitFeeds() throws {
        let text = Array("250-first\r\n250 second\r\n354 go ahead\r\n".utf8)
        for cut in 1..<text.count {
            var parser = SMTPReplyParser()
            let replies = try parser.feed(text[..<cut]) + parser.feed(text[cut...])
            #expect(replies.map(\.code) == [250, 354])
        }
    }

    @Test("a bare code without text is a reply")
    func bareCode() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("221\r\n".utf8)) == [SMTPReply(code: 221, lines: [""])])
    }

    @Test("a partial reply waits for its last line")
    func partial() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("250-one\r\n250 tw".utf8)).isEmpty)
        #expect(parser.isMidReply)
        #expect(try parser.feed(Array("o\r\n".utf8)).first?.lines == ["one", "two"])
    }

    @Test("lines that are not replies are refused", arguments: ["hello\r\n", "2x0 ok\r\n", "250+ok\r\n", "650 no such class\r\n", "25\r\n"])
    func malformed(_ text: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.ParseError.self) { _ = try parser.feed(Array(text.utf8)) }
    }

    @Test("a code that changes inside a multi-line reply is refused")
    func codeChanged() {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.ParseError.codeChanged(expected: 250, got: 251)) { _ = try parser.feed(Array("250-a\r\n251 b\r\n".utf8)) }
    }

    @Test("an endless line is refused instead of buffered")
    func endlessLine() {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.ParseError.lineTooLong) { _ = try parser.feed([UInt8](repeating: UInt8(ascii: "2"), count: 5_000)) }
    }

    @Test("an endless multi-line reply is refused")
    func endlessReply() {
        var parser = SMTPReplyParser()
        let text = String(repeating: "250-more\r\n", count: 200)
        #expect(throws: SMTPReplyParser.ParseError.tooManyLines) { _ = try parser.feed(Array(text.utf8)) }
    }
}
