import FrameRPC
import Foundation
import NotificationService
import ServiceSupport
import ServiceTesting
import ShopAPI

/// The notification service running on an ephemeral port with its own
/// temporary data folder, and a client for it.
func withNotificationService<Result: Sendable>(
    dataDirectory: String? = nil,
    _ body: (NotificationServiceClient) async throws -> Result
) async throws -> Result {
    let temporary = try TemporaryDirectory()
    defer { temporary.remove() }
    let environment = ServiceEnvironment(
        dataDirectory: dataDirectory ?? temporary.path,
        settings: TestSigning.settings,
        logger: testLogger("notification")
    )
    return try await withRunningService(NotificationServiceApp.factory, environment: environment) { port in
        let rpc = RPCClient(host: "127.0.0.1", port: port)
        defer { rpc.shutdown() }
        return try await body(NotificationServiceClient(rpc))
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
