import Foundation
import Hummingbird
import NotificationService

/// A real HTTP server receiving the webhook (Hummingbird on an ephemeral
/// port): it verifies each request's signature with
/// ``WebhookSignature/verify(header:body:secret:now:tolerance:)`` (401 when
/// it does not hold), then answers the next status of its script.
actor WebhookScript {
    struct Received: Sendable {
        let verified: Bool
        let body: [UInt8]
        let notificationID: String?
        let status: Int
    }

    private var statuses: [Int]
    private var fallback: Int
    private(set) var received: [Received] = []

    /// Answers `statuses` in turn, then `fallback` for ever.
    init(_ statuses: [Int], then fallback: Int = 200) {
        self.statuses = statuses
        self.fallback = fallback
    }

    func answer(verified: Bool, body: [UInt8], notificationID: String?) -> Int {
        let status = !verified ? 401 : (statuses.isEmpty ? fallback : statuses.removeFirst())
        received.append(Received(verified: verified, body: body, notificationID: notificationID, status: status))
        return status
    }

    func answerFromNowOn(_ status: Int) {
        statuses = []
        fallback = status
    }
}

/// Runs the receiver for the duration of `body`, which gets its URL.
func withWebhookReceiver<R: Sendable>(_ script: WebhookScript, secret: String, _ body: (String) async throws -> R) async throws -> R {
    let router = Router()
    router.post("/hook") { request, _ -> Response in
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let bytes = Array(buffer.readableBytesView)
        let header = request.headers.first { $0.name.canonicalName == "shop-signature" }?.value ?? ""
        let notificationID = request.headers.first { $0.name.canonicalName == "shop-notification-id" }?.value
        let verified = (try? WebhookSignature.verify(header: header, body: bytes, secret: Array(secret.utf8))) != nil
        let status = await script.answer(verified: verified, body: bytes, notificationID: notificationID)
        return Response(status: HTTPResponse.Status(code: status))
    }
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let application = Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await application.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessFailure("the webhook receiver did not start") }
        do {
            let result = try await body("http://127.0.0.1:\(port)/hook")
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}
