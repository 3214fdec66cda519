import Foundation
import FrameRPC
import NotificationService
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopObservability
import Testing

@Suite("Webhook delivery", .serialized)
struct WebhookDeliveryTests {
    static let secret = "webhook-test-secret-0123456789abcdef"

    func settings(_ url: String) -> [String: String] {
        Fixtures.fastRetries.merging(["SHOP_NOTIFY_WEBHOOK_URL": url, "SHOP_NOTIFY_WEBHOOK_SECRET": Self.secret]) { $1 }
    }

    @Test("each notification is POSTed as signed JSON; a 500 is retried until a 200")
    func signedAndRetriedOn500() async throws {
        let script = WebhookScript([500, 500])
        try await withWebhookReceiver(script, secret: Self.secret) { url in
            try await withNotificationService(settings: settings(url)) { client in
                let user = Validation.newID()
                let notification = try await client.notify(notifyRequest(user: user, data: ["order_id": "o-7", "total": "1250"]))
                let webhook = try await client.settled(notification.id, user: user, channel: "webhook")
                #expect(webhook?.state == "sent")
                #expect(webhook?.receipt == "HTTP 200")
                #expect(webhook?.attempts == 3)

                let received = await script.received
                #expect(received.map(\.status) == [500, 500, 200])
                #expect(received.allSatisfy { $0.verified })
                #expect(received.allSatisfy { $0.notificationID == notification.id })
                #expect(Set(received.map(\.body)).count == 1)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(received[0].body)) as? [String: Any])
                #expect(json["id"] as? String == notification.id)
                #expect(json["event_id"] as? String == notification.eventID)
                #expect(json["subject"] as? String == notification.subject)
            }
        }
    }

    @Test("a 400 is not retried: the webhook fails after one attempt, and the failure is counted")
    func fourHundredIsPermanent() async throws {
        let script = WebhookScript([400])
        let metrics = MetricsRegistry()
        try await withWebhookReceiver(script, secret: Self.secret) { url in
            try await withNotificationService(settings: settings(url), metrics: metrics) { client in
                let user = Validation.newID()
                let notification = try await client.notify(notifyRequest(user: user, data: ["order_id": "o-8"]))
                let webhook = try await client.settled(notification.id, user: user, channel: "webhook")
                #expect(webhook?.state == "failed")
                #expect(webhook?.attempts == 1)
                #expect(webhook?.lastError.contains("400") == true)
                try await Task.sleep(for: .milliseconds(500))
                #expect(await script.received.count == 1)
                #expect(PrometheusText(metrics.exposition()).value("notification_deliveries_failed_total", ["channel": "webhook"]) == 1)
            }
        }
    }

    @Test("a webhook still being retried when the service restarts is delivered once after the restart")
    func deliveredOnceAfterRestart() async throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let script = WebhookScript([], then: 503)
        try await withWebhookReceiver(script, secret: Self.secret) { url in
            let user = Validation.newID()
            let event = Validation.newID()
            let first = try await withNotificationService(dataDirectory: data.path, settings: settings(url)) { client in
                let notification = try await client.notify(notifyRequest(event: event, user: user, data: ["order_id": "o-9"]))
                _ = try await eventually {
                    try await client.deliveries(of: notification.id, user: user)
                } until: { $0.first.map { $0.attempts >= 2 } ?? false }
                return notification
            }
            await script.answerFromNowOn(200)
            try await withNotificationService(dataDirectory: data.path, settings: settings(url)) { client in
                let webhook = try await client.settled(first.id, user: user, channel: "webhook")
                #expect(webhook?.state == "sent")
                // The order service delivering the event again changes nothing.
                let again = try await client.notify(notifyRequest(event: event, user: user, data: ["order_id": "o-9"]))
                #expect(again.id == first.id)
                try await Task.sleep(for: .milliseconds(500))
            }
            let received = await script.received
            #expect(received.filter { $0.status == 200 }.count == 1)
            #expect(received.last?.status == 200)
            #expect(received.allSatisfy { $0.verified })
        }
    }

    @Test("a webhook URL without a secret, a short secret or the development secret outside dev mode stops the service")
    func secretIsRequired() async throws {
        for (secret, phrase) in [(nil, "SHOP_NOTIFY_WEBHOOK_SECRET is required"), ("short", "too short"), ("shop-dev-mode-webhook-secret-NOT-FOR-PRODUCTION", "public development secret")] {
            var settings = ["SHOP_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/hook"]
            settings["SHOP_NOTIFY_WEBHOOK_SECRET"] = secret
            do {
                try await withNotificationService(settings: settings) { _ in }
                Issue.record("started with secret \(secret ?? "unset")")
            } catch {
                #expect("\(error)".contains(phrase))
                #expect(!"\(error)".contains("NOT-FOR-PRODUCTION"))
            }
        }
    }
}

@Suite("Webhook signature")
struct WebhookSignatureTests {
    let secret = Array("webhook-test-secret-0123456789abcdef".utf8)
    let body = Array(#"{"id":"n-1"}"#.utf8)
    let now = Date(timeIntervalSince1970: 1_796_000_000)

    @Test("a signature made now verifies")
    func verifies() throws {
        let header = WebhookSignature.header(body: body, secret: secret, timestamp: 1_796_000_000)
        #expect(header.hasPrefix("t=1796000000,v1="))
        try WebhookSignature.verify(header: header, body: body, secret: secret, now: now)
    }

    @Test("a changed body, another secret or a changed timestamp does not verify")
    func mismatch() {
        let header = WebhookSignature.header(body: body, secret: secret, timestamp: 1_796_000_000)
        #expect(throws: WebhookSignature.VerificationError.signatureMismatch) {
            try WebhookSignature.verify(header: header, body: Array(#"{"id":"n-2"}"#.utf8), secret: secret, now: now)
        }
        #expect(throws: WebhookSignature.VerificationError.signatureMismatch) {
            try WebhookSignature.verify(header: header, body: body, secret: Array("another-secret".utf8), now: now)
        }
        let moved = header.replacingOccurrences(of: "t=1796000000", with: "t=1796000001")
        #expect(throws: WebhookSignature.VerificationError.signatureMismatch) {
            try WebhookSignature.verify(header: moved, body: body, secret: secret, now: now)
        }
    }

    @Test("a replay more than five minutes old (or ahead) is refused, even with a valid signature")
    func replayWindow() throws {
        let header = WebhookSignature.header(body: body, secret: secret, timestamp: 1_796_000_000)
        try WebhookSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(299))
        #expect(throws: WebhookSignature.VerificationError.timestampOutsideTolerance) {
            try WebhookSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(301))
        }
        #expect(throws: WebhookSignature.VerificationError.timestampOutsideTolerance) {
            try WebhookSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(-301))
        }
    }

    @Test("malformed headers are refused", arguments: ["", "t=abc,v1=00", "v1=00ff", "t=1796000000", "t=1796000000,v1=zz", "garbage"])
    func malformed(_ header: String) {
        #expect(throws: WebhookSignature.VerificationError.malformedHeader) {
            try WebhookSignature.verify(header: header, body: body, secret: secret, now: now)
        }
    }
}
