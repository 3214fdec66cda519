import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("Upstream failures")
struct FailureTests {
    @Test("with the inventory service gone, CreateOrder fails UNAVAILABLE and leaves no order and no reservation")
    func inventoryDown() async throws {
        try await withShop(stoppable: .inventory) { shop in
            let inventoryService = try #require(shop.stoppable)
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let before = try await shop.order([(pen, 2)], by: user)

            await inventoryService.stop()
            let error = await rpcError { _ = try await shop.order([(pen, 1)], by: user, key: "while-down") }
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("127.0.0.1") == false, "no internal addresses for the caller")

            let orders = try await shop.orders.listOrders(.init(), options: try await asAdmin()).orders
            #expect(orders.map(\.id) == [before.id])

            try await inventoryService.restart()
            let stock = try await shop.stock(pen)
            #expect(stock.available == 8)
            #expect(stock.reserved == 0)
        }
    }

    @Test("once the inventory service is back, orders succeed again and a retried key places one order")
    func inventoryRecovers() async throws {
        try await withShop(stoppable: .inventory) { shop in
            let inventoryService = try #require(shop.stoppable)
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            await inventoryService.stop()
            let error = await rpcError { _ = try await shop.order([(pen, 1)], by: user, key: "retry-me") }
            #expect(error?.code == .unavailable)
            try await inventoryService.restart()

            var placed: Shop_Order_V1_Order?
            let recovered = await eventually {
                placed = try? await shop.order([(pen, 1)], by: user, key: "retry-me")
                return placed != nil
            }
            #expect(recovered)
            let again = try await shop.order([(pen, 1)], by: user, key: "retry-me")
            #expect(again.id == placed?.id)
            #expect(try await shop.orders.listOrders(.init(), options: try await asUser(user)).orders.count == 1)
            let stock = try await shop.stock(pen)
            #expect(stock.available == 9 && stock.reserved == 0)
        }
    }
}
