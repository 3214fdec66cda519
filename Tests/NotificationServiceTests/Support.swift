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
        logger: testLogger("notification")
    )
    return try await withRunningService(NotificationServiceApp.factory, environment: environment) { port in
        let rpc = RPCClient(host: "127.0.0.1", port: port)
        defer { rpc.shutdown() }
        return try await body(NotificationServiceClient(rpc))
    }
}

/// Options that make a call act for a user.
func asUser(_ id: String) -> CallOptions {
    CallOptions(metadata: [Caller.userIDKey: id, Caller.roleKey: "user"])
}

/// Options that make a call act for an admin.
func asAdmin(_ id: String = Validation.newID()) -> CallOptions {
    CallOptions(metadata: [Caller.userIDKey: id, Caller.roleKey: "admin"])
}

/// The RPCError `body` threw, or `nil` if it succeeded.
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "not an RPCError: \(error)")
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
