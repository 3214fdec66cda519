import FrameRPC
import Foundation
import InventoryService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// Reserve, Commit and Release are the order service's alone (issue 10:
/// anyone could reserve all stock, release committed stock). Each is called
/// over mutual TLS by the allowed identity and by disallowed ones.
@Suite("Inventory: who may reserve, commit and release")
struct InventoryPolicyTests {
    private func withService(_ body: (_ as: (String) -> InventoryServiceClient) async throws -> Void) async throws {
        try await withServiceCalledAs("inventory", InventoryServiceApp.factory, client: InventoryServiceClient.init, body)
    }

    /// Identities that must not reach the internal RPCs: the gateway even
    /// with an admin's token, another service, a name no policy knows.
    static let disallowed = ["gateway", "notification", "product", "intruder"]

    private func stocked(_ client: (String) -> InventoryServiceClient, available: Int32 = 5) async throws -> String {
        let mug = Validation.newID()
        _ = try await client("gateway").setStock(.with { $0.productID = mug; $0.available = available }, options: try await asAdmin())
        return mug
    }

    private func reserveRequest(_ order: String, _ product: String, _ quantity: Int32) -> Shop_Inventory_V1_ReserveRequest {
        .with {
            $0.orderID = order
            $0.items = [.with { $0.productID = product; $0.quantity = quantity }]
        }
    }

    @Test("Reserve: the order service reserves; anyone else is PERMISSION_DENIED and holds nothing", arguments: disallowed)
    func reserve(_ caller: String) async throws {
        try await withService { client in
            let mug = try await stocked(client)
            let admin = try await asAdmin()
            let denied = await rpcError { _ = try await client(caller).reserve(reserveRequest(Validation.newID(), mug, 5), options: admin) }
            #expect(denied?.code == .permissionDenied)
            #expect(try await client("gateway").getStock(.with { $0.productID = mug }).available == 5)
            let reserved = try await client("order").reserve(reserveRequest(Validation.newID(), mug, 2))
            #expect(reserved.state == .reserved)
            #expect(try await client("gateway").getStock(.with { $0.productID = mug }).available == 3)
        }
    }

    @Test("Commit: the order service commits; anyone else is PERMISSION_DENIED and the reservation stays", arguments: disallowed)
    func commit(_ caller: String) async throws {
        try await withService { client in
            let mug = try await stocked(client)
            let order = Validation.newID()
            _ = try await client("order").reserve(reserveRequest(order, mug, 2))
            let admin = try await asAdmin()
            let denied = await rpcError { _ = try await client(caller).commit(.with { $0.orderID = order }, options: admin) }
            #expect(denied?.code == .permissionDenied)
            #expect(try await client("gateway").getStock(.with { $0.productID = mug }).reserved == 2)
            #expect(try await client("order").commit(.with { $0.orderID = order }).state == .committed)
        }
    }

    @Test("Release: the order service releases; anyone else is PERMISSION_DENIED and committed stock stays sold", arguments: disallowed)
    func release(_ caller: String) async throws {
        try await withService { client in
            let mug = try await stocked(client)
            let order = Validation.newID()
            _ = try await client("order").reserve(reserveRequest(order, mug, 2))
            _ = try await client("order").commit(.with { $0.orderID = order })
            let admin = try await asAdmin()
            let denied = await rpcError { _ = try await client(caller).release(.with { $0.orderID = order }, options: admin) }
            #expect(denied?.code == .permissionDenied)
            #expect(try await client("gateway").getStock(.with { $0.productID = mug }).available == 3)
            #expect(try await client("order").release(.with { $0.orderID = order }).state == .released)
            #expect(try await client("gateway").getStock(.with { $0.productID = mug }).available == 5)
        }
    }

    @Test("SetStock is the gateway's, for admins: the order service may not set stock")
    func setStockIsNotTheOrderServices() async throws {
        try await withService { client in
            let denied = await rpcError {
                _ = try await client("order").setStock(.with { $0.productID = Validation.newID(); $0.available = 1 })
            }
            #expect(denied?.code == .permissionDenied)
        }
    }
}
