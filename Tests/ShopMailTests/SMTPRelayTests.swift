import ShopMail
import Testing

@Suite("SMTP relay URL")
struct SMTPRelayTests {
    @Test("smtp:// with credentials means STARTTLS and AUTH, port 587 by default")
    func submission() throws {
        let relay = try SMTPRelay(url: "smtp://ada%40example.com:p%3Ass@mail.example.com")
        #expect(relay.host == "mail.example.com")
        #expect(relay.port == 587)
        #expect(relay.security == .startTLS)
        #expect(relay.credentials == .init(user: "ada@example.com", password: "p:ss"))
    }

    @Test("smtps:// is TLS from the first byte, port 465 by default")
    func implicitTLS() throws {
        let relay = try SMTPRelay(url: "smtps://u:p@mail.example.com")
        #expect(relay.security == .implicitTLS)
        #expect(relay.port == 465)
    }

    @Test("smtp://host:25 without credentials is a plain local relay")
    func localRelay() throws {
        let relay = try SMTPRelay(url: "smtp://127.0.0.1:2525")
        #expect(relay.security == .none)
        #expect(relay.credentials == nil)
        #expect(relay.port == 2525)
    }

    @Test("other schemes and URLs without a host are refused, the password never echoed", arguments: ["http://mail.example.com", "smtp://", "mail.example.com:25", "smtp://u:hunter2@:25"])
    func refused(_ url: String) {
        do {
            _ = try SMTPRelay(url: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }
}
