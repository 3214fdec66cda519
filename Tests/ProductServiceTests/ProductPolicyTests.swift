import FrameRPC
import Foundation
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// BatchGetProducts is the order service's and the gateway's; the catalog's
/// writes only the gateway's. Over mutual TLS, allowed and disallowed.
@Suite("Product: who may read prices in bulk and write the catalog")
struct ProductPolicyTests {
    private func withService(_ body: (_ as: (String) -> ProductServiceClient) async throws -> Void) async throws {
        try await withServiceCalledAs("product", ProductServiceApp.factory, client: ProductServiceClient.init, body)
    }

    private func create(_ client: ProductServiceClient) async throws -> Shop_Product_V1_Product {
        try await client.createProduct(.with { $0.name = "Mug"; $0.price = 450 }, options: try await asAdmin())
    }

    @Test("the order service and the gateway read prices in bulk", arguments: ["order", "gateway"])
    func allowed(_ caller: String) async throws {
        try await withService { client in
            let mug = try await create(client("gateway"))
            let found = try await client(caller).batchGetProducts(.with { $0.ids = [mug.id] })
            #expect(found.products.map(\.id) == [mug.id])
        }
    }

    @Test("any other service is PERMISSION_DENIED", arguments: ["inventory", "notification", "user", "intruder"])
    func disallowed(_ caller: String) async throws {
        try await withService { client in
            let mug = try await create(client("gateway"))
            let denied = await rpcError { _ = try await client(caller).batchGetProducts(.with { $0.ids = [mug.id] }) }
            #expect(denied?.code == .permissionDenied)
        }
    }

    @Test("the order service may not create products, even with an admin's token")
    func orderMayNotWrite() async throws {
        try await withService { client in
            let denied = await rpcError { _ = try await create(client("order")) }
            #expect(denied?.code == .permissionDenied)
        }
    }
}
