import FrameRPC
import Foundation
import NotificationService
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopObservability

/// The notification service's two callers, as in the real system: the
/// order service's outbox relay sends `Notify`, the gateway lists.
struct NotificationTestClient: Sendable {
    /// Calls as the order service.
    let order: NotificationServiceClient
    /// Calls as the gateway.
    let gateway: NotificationServiceClient

    func notify(_ request: Shop_Notification_V1_NotifyRequest, options: CallOptions = .defaults) async throws -> Shop_Notification_V1_Notification {
        try await order.notify(request, options: options)
    }

    func listNotifications(
        _ request: Shop_Notification_V1_ListNotificationsRequest,
        options: CallOptions = .defaults
    ) async throws -> Shop_Notification_V1_ListNotificationsResponse {
        try await gateway.listNotifications(request, options: options)
    }
}

/// The notification service running on an ephemeral port with its own
/// temporary data folder, over mutual TLS, and clients for it.
///
/// - Parameters:
///   - settings: added to the signing key (the delivery channels' settings).
///   - metrics: where the service records its metrics.
func withNotificationService<Result: Sendable>(
    dataDirectory: String? = nil,
    settings: [String: String] = [:],
    metrics: MetricsRegistry = .shared,
    _ body: (NotificationTestClient) async throws -> Result
) async throws -> Result {
    let temporary = try TemporaryDirectory()
    defer { temporary.remove() }
    let environment = ServiceEnvironment(
        dataDirectory: dataDirectory ?? temporary.path,
        settings: TestSigning.settings.merging(settings) { $1 },
        tls: TestPKI.shared.server(as: "notification"),
        logger: testLogger("notification"),
        metrics: metrics
    )
    return try await withRunningService(NotificationServiceApp.factory, environment: environment) { port in
        let order = RPCClient.testing(port: port, calling: "notification", as: "order")
        let gateway = RPCClient.testing(port: port, calling: "notification")
        defer {
            order.shutdown()
            gateway.shutdown()
        }
        return try await body(NotificationTestClient(order: NotificationServiceClient(order), gateway: NotificationServiceClient(gateway)))
    }
}

func notifyRequest(
    event: String = Validation.newID(),
    user: String,
    kind: String = "order_confirmed",
    data: [String: String] = [:]
) -> Shop_Notification_V1_NotifyRequest {
    .with {
        $0.eventID = event
        $0.userID = user
        $0.kind = kind
        $0.data = data
    }
}

func listRequest(user: String = "", skip: Int32 = 0, limit: Int32 = 0) -> Shop_Notification_V1_ListNotificationsRequest {
    .with {
        $0.userID = user
        $0.skip = skip
        $0.limit = limit
    }
}
