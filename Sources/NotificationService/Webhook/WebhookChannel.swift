import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The webhook channel: POSTs a delivery's stored JSON body to the
/// configured URL, signed (``WebhookSignature``) at send time, with the
/// notification id in `Shop-Notification-Id` so a receiver can drop a
/// repeat (delivery is at least once).
///
/// 2xx is sent (the receipt is the status); 408, 429 and 5xx, timeouts and
/// connection failures are retried; any other status (4xx, and 3xx:
/// redirects are not followed) is permanent. It owns its `HTTPClient`:
/// created with the channel, shut down by ``shutdown()`` when the
/// ``DeliveryRelay`` stops.
struct WebhookChannel: DeliveryChannel {
    let name = DeliveryChannelName.webhook
    private let client: HTTPClient
    private let secret: [UInt8]
    private let timeout: TimeAmount

    init(secret: [UInt8], timeout: TimeAmount) {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: timeout, read: timeout)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.secret = secret
        self.timeout = timeout
    }

    func send(_ delivery: StoredDelivery) async throws(DeliveryFailure) -> String {
        let body = Array(delivery.content)
        var request = HTTPClientRequest(url: delivery.recipient)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "shop-notifications")
        request.headers.add(name: "Shop-Notification-Id", value: delivery.notificationID)
        request.headers.add(name: WebhookSignature.headerName, value: WebhookSignature.header(
            body: body, secret: secret, timestamp: Int64(Date().timeIntervalSince1970)
        ))
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: HTTPResponseStatus
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = response.status
            // The body is not used; read a little so the connection is reusable.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw DeliveryFailure(reason: "webhook: \(error)", permanent: false)
        }
        let code = Int(status.code)
        if (200..<300).contains(code) { return "HTTP \(code)" }
        let retryable = code >= 500 || code == 408 || code == 429
        throw DeliveryFailure(reason: "webhook answered HTTP \(code)", permanent: !retryable)
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
