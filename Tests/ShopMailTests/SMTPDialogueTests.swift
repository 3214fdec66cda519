import ShopMail
import Testing

/// The dialogue driven reply by reply, as a server would answer.
@Suite("SMTP dialogue")
struct SMTPDialogueTests {
    let message = Array("Subject: hi\r\n\r\nbody\r\n".utf8)

    func dialogue(_ security: SMTPDialogue.Security = .none, credentials: SMTPDialogue.Credentials? = nil, recipients: [String] = ["ada@example.com"]) throws -> SMTPDialogue {
        try SMTPDialogue(clientName: "shop.test", security: security, credentials: credentials, sender: "shop@example.com", recipients: recipients, message: message)
    }

    func reply(_ code: Int, _ lines: String...) -> SMTPReply { SMTPReply(code: code, lines: lines.isEmpty ? [""] : lines) }

    @Test("without TLS or AUTH: EHLO, MAIL FROM, RCPT TO, DATA, the message, QUIT")
    func plainPath() throws {
        var session = try dialogue()
        #expect(session.received(reply(220, "ready")) == .send("EHLO shop.test"))
        #expect(session.received(reply(250, "hello", "8BITMIME")) == .send("MAIL FROM:<shop@example.com>"))
        #expect(session.received(reply(250)) == .send("RCPT TO:<ada@example.com>"))
        #expect(session.received(reply(250)) == .send("DATA"))
        #expect(session.received(reply(354)) == .sendMessage(SMTPDialogue.dataBlock(message)))
        #expect(session.received(reply(250, "2.0.0 Ok: queued as ABC123")) == .send("QUIT"))
        #expect(session.received(reply(221)) == .finished(receipt: "250 2.0.0 Ok: queued as ABC123"))
    }

    @Test("STARTTLS comes before anything else, and EHLO is sent again after the handshake")
    func startTLSPath() throws {
        var session = try dialogue(.startTLS, credentials: .init(user: "u", password: "p"))
        _ = session.received(reply(220))
        #expect(session.received(reply(250, "hello", "STARTTLS", "AUTH PLAIN")) == .send("STARTTLS"))
        #expect(session.received(reply(220, "go ahead")) == .startTLS)
        #expect(session.tlsEstablished() == .send("EHLO shop.test"))
        #expect(session.received(reply(250, "hello", "AUTH PLAIN LOGIN")) == .send("AUTH PLAIN AHUAcA=="))
        #expect(session.received(reply(235)) == .send("MAIL FROM:<shop@example.com>"))
    }

    @Test("credentials are never sent when the server offers no STARTTLS")
    func noStartTLS() throws {
        var session = try dialogue(.startTLS, credentials: .init(user: "u", password: "p"))
        _ = session.received(reply(220))
        #expect(session.received(reply(250, "hello", "AUTH PLAIN")) == .fail(.startTLSUnavailable))
    }

    @Test("AUTH LOGIN when PLAIN is not offered: user and password, each base64")
    func authLogin() throws {
        var session = try dialogue(.implicitTLS, credentials: .init(user: "ada", password: "secret"))
        _ = session.received(reply(220))
        #expect(session.received(reply(250, "hello", "AUTH LOGIN")) == .send("AUTH LOGIN"))
        #expect(session.received(reply(334, "VXNlcm5hbWU6")) == .send("YWRh"))
        #expect(session.received(reply(334, "UGFzc3dvcmQ6")) == .send("c2VjcmV0"))
        #expect(session.received(reply(235)) == .send("MAIL FROM:<shop@example.com>"))
    }

    @Test("no usable AUTH mechanism is an error naming what was offered")
    func noMechanism() throws {
        var session = try dialogue(.implicitTLS, credentials: .init(user: "ada", password: "secret"))
        _ = session.received(reply(220))
        #expect(session.received(reply(250, "hello", "AUTH CRAM-MD5")) == .fail(.authenticationUnavailable(offered: ["CRAM-MD5"])))
    }

    @Test("a refusal at any step fails with the step and the reply; 4xx is transient, 5xx permanent")
    func refusals() throws {
        var session = try dialogue()
        _ = session.received(reply(220))
        _ = session.received(reply(250))
        _ = session.received(reply(250))
        let action = session.received(reply(550, "5.1.1 no such user"))
        #expect(action == .fail(.refused(stage: .rcptTo, reply: reply(550, "5.1.1 no such user"))))
        #expect(SMTPError.refused(stage: .rcptTo, reply: reply(550)).isPermanent)
        #expect(!SMTPError.refused(stage: .message, reply: reply(451)).isPermanent)
        #expect(!SMTPError.timedOut(stage: .greeting).isPermanent)
    }

    @Test("every recipient gets its own RCPT TO")
    func recipients() throws {
        var session = try dialogue(recipients: ["a@example.com", "b@example.com"])
        _ = session.received(reply(220))
        _ = session.received(reply(250))
        #expect(session.received(reply(250)) == .send("RCPT TO:<a@example.com>"))
        #expect(session.received(reply(250)) == .send("RCPT TO:<b@example.com>"))
        #expect(session.received(reply(251)) == .send("DATA"))
    }

    @Test("a close after the message was accepted ends the session; before, it is a failure")
    func closes() throws {
        var early = try dialogue()
        _ = early.received(reply(220))
        #expect(early.connectionClosed() == .fail(.connection(stage: .ehlo, detail: "the server closed the connection")))
        var late = try dialogue()
        for code in [220, 250, 250, 250, 354] { _ = late.received(reply(code)) }
        _ = late.received(reply(250, "queued"))
        #expect(late.connectionClosed() == .finished(receipt: "250 queued"))
    }

    @Test("addresses that could smuggle commands are refused", arguments: ["a@b.c>\r\nRCPT TO:<x@y.z", "a b@c.d", "ä@example.com", ""])
    func unsafeAddresses(_ address: String) {
        #expect(throws: SMTPError.self) { _ = try dialogue(recipients: [address]) }
    }

    @Test("DATA dot-stuffs lines starting with a dot, makes every line end in CRLF and ends with CRLF.CRLF")
    func dotStuffing() {
        let block = SMTPDialogue.dataBlock(Array(".hidden\nline\r\n..two\rend".utf8))
        #expect(String(decoding: block, as: UTF8.self) == "..hidden\r\nline\r\n...two\r\nend\r\n.\r\n")
    }
}
