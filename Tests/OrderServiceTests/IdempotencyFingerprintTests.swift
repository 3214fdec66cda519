import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

/// An idempotency key stands for one request: replaying the same request
/// returns the first order, a different request under the same key is
/// refused (INVALID_ARGUMENT, which the gateway answers with 422).
@Suite("Idempotency keys and request bodies")
struct IdempotencyFingerprintTests {
    @Test("the same key with other quantities is INVALID_ARGUMENT and places and reserves nothing")
    func otherQuantitiesRefused() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let first = try await shop.order([(pen, 1)], by: user, key: "checkout-1")
            let error = await rpcError { _ = try await shop.order([(pen, 2)], by: user, key: "checkout-1") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("idempotency_key:") == true)
            let orders = try await shop.orders.listOrders(.init(), options: asUser(user)).orders
            #expect(orders.map(\.id) == [first.id])
            let stock = try await shop.stock(pen)
            #expect(stock.available == 9 && stock.reserved == 0)
        }
    }

    @Test("the same key with another product is INVALID_ARGUMENT")
    func otherProductRefused() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let cup = try await shop.newProduct(price: 300, stock: 10)
            _ = try await shop.order([(pen, 1)], by: user, key: "checkout-2")
            let error = await rpcError { _ = try await shop.order([(cup, 1)], by: user, key: "checkout-2") }
            #expect(error?.code == .invalidArgument)
            #expect(try await shop.stock(cup).available == 10)
        }
    }

    @Test("the same items in another order, or split over repeated lines, are the same request")
    func canonicalRequestReplays() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let cup = try await shop.newProduct(price: 300, stock: 10)
            let first = try await shop.order([(pen, 2), (cup, 1)], by: user, key: "checkout-3")
            let reordered = try await shop.order([(cup, 1), (pen, 2)], by: user, key: "checkout-3")
            let split = try await shop.order([(pen, 1), (cup, 1), (pen, 1)], by: user, key: "checkout-3")
            #expect(reordered.id == first.id)
            #expect(split.id == first.id)
            #expect(try await shop.stock(pen).available == 8)
        }
    }

    @Test("concurrent requests under one key: those with the first order's body get it, the others are INVALID_ARGUMENT")
    func concurrentMixedBodies() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 100)
            enum Outcome: Sendable, Equatable { case order(String), failed(RPCError.Code) }
            let outcomes = try await withThrowingTaskGroup(of: (Int32, Outcome).self) { group in
                for quantity: Int32 in [3, 3, 3, 5, 5] {
                    group.addTask {
                        do {
                            return (quantity, .order(try await shop.order([(pen, quantity)], by: user, key: "double-click").id))
                        } catch let error as RPCError {
                            return (quantity, .failed(error.code))
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let orders = try await shop.orders.listOrders(.init(), options: asUser(user)).orders
            try #require(orders.count == 1)
            let winner = orders[0]
            let winningQuantity = winner.items[0].quantity
            for (quantity, outcome) in outcomes {
                if quantity == winningQuantity {
                    #expect(outcome == .order(winner.id))
                } else {
                    #expect(outcome == .failed(.invalidArgument))
                }
            }
            let stock = try await shop.stock(pen)
            #expect(stock.available == 100 - winningQuantity)
            #expect(stock.reserved == 0)
        }
    }
}
