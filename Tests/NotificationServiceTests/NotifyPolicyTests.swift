import FrameRPC
import Foundation
import NotificationService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// Notify is the order service's alone (issue 10: anyone could notify
/// anyone), called over mutual TLS by the allowed and disallowed identities.
@Suite("Notification: who may notify")
struct NotifyPolicyTests {
    private func withService(_ body: (_ as: (String) -> NotificationServiceClient) async throws -> Void) async throws {
        try await withServiceCalledAs("notification", NotificationServiceApp.factory, client: NotificationServiceClient.init, body)
    }

    @Test("the order service notifies; the gateway (even for an admin), another service or an unknown name is PERMISSION_DENIED and nothing is stored", arguments: ["gateway", "user", "inventory", "intruder"])
    func notify(_ caller: String) async throws {
        try await withService { client in
            let user = Validation.newID()
            let admin = try await asAdmin()
            let denied = await rpcError { _ = try await client(caller).notify(notifyRequest(user: user, data: ["order_id": "o-1"]), options: admin) }
            #expect(denied?.code == .permissionDenied)
            let none = try await client("gateway").listNotifications(.with { $0.userID = user }, options: admin)
            #expect(none.notifications.isEmpty)
            _ = try await client("order").notify(notifyRequest(user: user, data: ["order_id": "o-2"]))
            #expect(try await client("gateway").listNotifications(.with { $0.userID = user }, options: admin).notifications.count == 1)
        }
    }

    @Test("identity metadata the order service sends is ignored: it notifies as itself")
    func orderMetadataIsIgnored() async throws {
        try await withService { client in
            let forged = CallOptions(metadata: ["x-user-id": Validation.newID(), "x-user-role": "user", "authorization": "Bearer not-a-token"])
            let sent = try await client("order").notify(notifyRequest(user: Validation.newID(), data: ["order_id": "o-3"]), options: forged)
            #expect(!sent.id.isEmpty)
        }
    }

    @Test("ListNotifications is the gateway's: the order service may not read them")
    func listIsTheGateways() async throws {
        try await withService { client in
            let denied = await rpcError { _ = try await client("order").listNotifications(.init()) }
            #expect(denied?.code == .permissionDenied)
        }
    }
}
