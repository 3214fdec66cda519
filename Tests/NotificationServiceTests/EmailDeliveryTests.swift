import Foundation
import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopObservability
import Testing

/// Email through a real SMTP server (aiosmtpd, started per test), the
/// delivered bytes parsed back with Python's `email` package.
@Suite("Email delivery over SMTP", .serialized)
struct EmailDeliveryTests {
    static let name = "Zoë Ångström"
    static let address = "zoe@example.com"

    func settings(_ url: String) -> [String: String] {
        Fixtures.fastRetries.merging([
            "SHOP_SMTP_URL": url,
            "SHOP_MAIL_FROM": "Shop <shop@example.com>",
            "SHOP_SMTP_CA": SMTPServerFixture.caPath,
        ]) { $1 }
    }

    func confirmed(order: String, user: String = Validation.newID()) -> Shop_Notification_V1_NotifyRequest {
        var request = notifyRequest(user: user, data: ["order_id": order, "total": "5997"])
        request.recipientEmail = Self.address
        request.recipientName = Self.name
        return request
    }

    /// Runs `body` with a server, stopping it whatever happens.
    func withSMTPServer<R: Sendable>(_ options: SMTPServerFixture.Options, port: Int? = nil, maildir: String, _ body: (SMTPServerFixture) async throws -> R) async throws -> R {
        let server = try await SMTPServerFixture.start(options, port: port, maildir: maildir)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    @Test("an order confirmation is one well-formed email over STARTTLS and AUTH PLAIN, with a non-ASCII name and subject")
    func startTLSAndPlain() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withSMTPServer(.init(startTLS: true, auth: "shop:s3cret"), maildir: folder.path + "/mail") { server in
            try await withNotificationService(settings: settings("smtp://shop:s3cret@localhost:\(server.port)")) { client in
                let order = Validation.newID()
                let request = confirmed(order: order)
                let notification = try await client.notify(request)
                #expect(notification.deliveries.map(\.channel) == ["email"])
                let email = try await client.settled(notification.id, user: request.userID, channel: "email")
                #expect(email?.state == "sent")
                #expect(email?.attempts == 1)
                #expect(email?.receipt.contains("queued as TEST0001") == true)

                let messages = server.messages()
                try #require(messages.count == 1)
                let mail = try await ParsedMail.parse(messages[0])
                #expect(mail.defects.isEmpty)
                #expect(!mail.bare_newlines)
                #expect(mail.longest_line <= 78)
                #expect(mail.subject == "\(Self.name), your order \(order) is confirmed")
                #expect(mail.to_addresses == [Self.address])
                #expect(mail.to_names == [Self.name])
                #expect(mail.from == "Shop <shop@example.com>")
                #expect(mail.message_id == "<\(notification.id)@example.com>")
                #expect(mail.has_date)
                #expect(mail.content_type == "multipart/alternative")
                #expect(mail.text?.contains("Hello \(Self.name),") == true)
                #expect(mail.text?.contains(order) == true)
                #expect(mail.text?.contains("59.97") == true)
                #expect(mail.html?.contains("<strong>\(order)</strong>") == true)
                #expect(mail.html?.contains("59.97") == true)

                let envelope = try server.envelope(of: messages[0])
                #expect(envelope["tls"] as? Bool == true)
                #expect(envelope["mechanism"] as? String == "PLAIN")
                #expect(envelope["login"] as? String == "shop")
                #expect(envelope["mail_from"] as? String == "shop@example.com")
                #expect(envelope["rcpt_tos"] as? [String] == [Self.address])
            }
        }
    }

    @Test("smtps: TLS from the first byte, and AUTH LOGIN when the server offers only LOGIN")
    func implicitTLSAndLogin() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withSMTPServer(.init(implicitTLS: true, auth: "shop:s3cret", excludedMechanisms: ["PLAIN"]), maildir: folder.path + "/mail") { server in
            try await withNotificationService(settings: settings("smtps://shop:s3cret@localhost:\(server.port)")) { client in
                let request = confirmed(order: Validation.newID())
                let notification = try await client.notify(request)
                let email = try await client.settled(notification.id, user: request.userID, channel: "email")
                #expect(email?.state == "sent")
                let messages = server.messages()
                try #require(messages.count == 1)
                let envelope = try server.envelope(of: messages[0])
                #expect(envelope["mechanism"] as? String == "LOGIN")
            }
        }
    }

    @Test("a 4xx reply is retried until the server takes the message: one email, three attempts")
    func transientRefusalIsRetried() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withSMTPServer(.init(rejectCode: 451, rejectCount: 2), maildir: folder.path + "/mail") { server in
            try await withNotificationService(settings: settings("smtp://localhost:\(server.port)")) { client in
                let request = confirmed(order: Validation.newID())
                let notification = try await client.notify(request)
                let email = try await client.settled(notification.id, user: request.userID, channel: "email")
                #expect(email?.state == "sent")
                #expect(email?.attempts == 3)
                #expect(server.messages().count == 1)
            }
        }
    }

    @Test("a 5xx reply fails the email for good after one attempt, and the failure is counted")
    func permanentRefusalFails() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let metrics = MetricsRegistry()
        try await withSMTPServer(.init(rejectCode: 554, rejectCount: 100), maildir: folder.path + "/mail") { server in
            try await withNotificationService(settings: settings("smtp://localhost:\(server.port)"), metrics: metrics) { client in
                let request = confirmed(order: Validation.newID())
                let notification = try await client.notify(request)
                let email = try await client.settled(notification.id, user: request.userID, channel: "email")
                #expect(email?.state == "failed")
                #expect(email?.attempts == 1)
                #expect(email?.lastError.contains("554") == true)
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await client.deliveries(of: notification.id, user: request.userID).first?.attempts == 1)
                #expect(server.messages().isEmpty)
                let failed = PrometheusText(metrics.exposition()).value("notification_deliveries_failed_total", ["channel": "email"])
                #expect(failed == 1)
            }
        }
    }

    @Test("with the SMTP server down the email waits; once it is up the email is delivered once")
    func serverDownThenUp() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let port = try restartablePort()
        try await withNotificationService(settings: settings("smtp://localhost:\(port)")) { client in
            let request = confirmed(order: Validation.newID())
            let notification = try await client.notify(request)
            let waiting = try await eventually {
                try await client.deliveries(of: notification.id, user: request.userID)
            } until: { $0.first.map { $0.attempts >= 2 } ?? false }
            #expect(waiting.first?.state == "pending")
            #expect(waiting.first?.lastError.contains("connect") == true)

            try await withSMTPServer(.init(), port: port, maildir: folder.path + "/mail") { server in
                let email = try await client.settled(notification.id, user: request.userID, channel: "email")
                #expect(email?.state == "sent")
                try await Task.sleep(for: .milliseconds(500))
                #expect(server.messages().count == 1)
            }
        }
    }

    @Test("a notification without an address gets no email; one whose address cannot be mailed records a failed email and is still stored")
    func addresses() async throws {
        try await withNotificationService(settings: settings("smtp://localhost:1")) { client in
            let plain = try await client.notify(notifyRequest(user: Validation.newID(), data: ["order_id": "o-1"]))
            #expect(plain.deliveries.isEmpty)

            var request = confirmed(order: Validation.newID())
            request.recipientEmail = "ada@example.com>\r\nRCPT TO:<victim@example.com"
            let notification = try await client.notify(request)
            #expect(notification.deliveries.map(\.state) == ["failed"])
            #expect(notification.deliveries.first?.lastError.contains("unusable address") == true)
            let listed = try await client.listNotifications(listRequest(user: request.userID), options: try await asAdmin())
            #expect(listed.notifications.map(\.id) == [notification.id])
        }
    }

    @Test("SHOP_SMTP_URL without SHOP_MAIL_FROM, or a malformed one, stops the service with a clear error")
    func configurationErrors() async throws {
        for (settings, phrase) in [
            (["SHOP_SMTP_URL": "smtp://localhost:25"], "SHOP_MAIL_FROM is required"),
            (["SHOP_SMTP_URL": "http://localhost", "SHOP_MAIL_FROM": "shop@example.com"], "smtp://"),
        ] {
            do {
                try await withNotificationService(settings: settings) { _ in }
                Issue.record("started with \(settings)")
            } catch {
                #expect("\(error)".contains(phrase))
            }
        }
    }
}
