import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("CancelOrder and UpdateOrderStatus")
struct ChangeOrderTests {
    /// A user, a product with 10 units and one confirmed order of 3.
    private func placed(_ shop: Shop) async throws -> (user: String, product: String, order: Shop_Order_V1_Order) {
        let user = try await shop.newUser()
        let pen = try await shop.newProduct(price: 100, stock: 10)
        return (user, pen, try await shop.order([(pen, 3)], by: user))
    }

    private func move(_ shop: Shop, _ orderID: String, to status: Shop_Order_V1_OrderStatus, options: CallOptions? = nil) async throws -> Shop_Order_V1_Order {
        let chosen: CallOptions
        if let options { chosen = options } else { chosen = try await asAdmin() }
        let options = chosen
        return try await shop.orders.updateOrderStatus(.with { $0.id = orderID; $0.status = status }, options: options)
    }

    @Test("the owner cancels a confirmed order and its stock goes back")
    func cancelReturnsStock() async throws {
        try await withShop { shop in
            let (user, pen, order) = try await placed(shop)
            #expect(try await shop.stock(pen).available == 7)
            let cancelled = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asUser(user))
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.updatedAt.date >= order.updatedAt.date)
            let stock = try await shop.stock(pen)
            #expect(stock.available == 10 && stock.reserved == 0)
            let read = try await shop.orders.getOrder(.with { $0.id = order.id }, options: try await asUser(user))
            #expect(read.status == .cancelled)
        }
    }

    @Test("an admin may cancel anyone's order")
    func adminCancels() async throws {
        try await withShop { shop in
            let (_, pen, order) = try await placed(shop)
            let cancelled = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asAdmin())
            #expect(cancelled.status == .cancelled)
            #expect(try await shop.stock(pen).available == 10)
        }
    }

    @Test("cancelling twice is FAILED_PRECONDITION and returns the stock once")
    func cancelTwice() async throws {
        try await withShop { shop in
            let (user, pen, order) = try await placed(shop)
            _ = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asUser(user))
            let error = await rpcError {
                _ = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asUser(user))
            }
            #expect(error?.code == .failedPrecondition)
            #expect(try await shop.stock(pen).available == 10)
        }
    }

    @Test("a shipped order cannot be cancelled: FAILED_PRECONDITION, and its stock stays sold")
    func cancelShipped() async throws {
        try await withShop { shop in
            let (user, pen, order) = try await placed(shop)
            _ = try await move(shop, order.id, to: .shipped)
            let error = await rpcError {
                _ = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asUser(user))
            }
            #expect(error?.code == .failedPrecondition)
            #expect(try await shop.stock(pen).available == 7)
        }
    }

    @Test("cancelling someone else's order is PERMISSION_DENIED and changes nothing")
    func cancelOthersOrder() async throws {
        try await withShop { shop in
            let (_, pen, order) = try await placed(shop)
            let other = try await shop.newUser()
            let error = await rpcError {
                _ = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asUser(other))
            }
            #expect(error?.code == .permissionDenied)
            #expect(try await shop.stock(pen).available == 7)
        }
    }

    @Test("cancelling an unknown order is NOT_FOUND, a malformed id INVALID_ARGUMENT")
    func cancelUnknown() async throws {
        try await withShop { shop in
            let unknown = await rpcError {
                _ = try await shop.orders.cancelOrder(.with { $0.id = Validation.newID() }, options: try await asAdmin())
            }
            #expect(unknown?.code == .notFound)
            let malformed = await rpcError {
                _ = try await shop.orders.cancelOrder(.with { $0.id = "x" }, options: try await asAdmin())
            }
            #expect(malformed?.code == .invalidArgument)
        }
    }

    @Test("an admin moves an order confirmed -> shipped -> delivered")
    func shipAndDeliver() async throws {
        try await withShop { shop in
            let (user, pen, order) = try await placed(shop)
            let shipped = try await move(shop, order.id, to: .shipped)
            #expect(shipped.status == .shipped)
            let delivered = try await move(shop, order.id, to: .delivered)
            #expect(delivered.status == .delivered)
            let read = try await shop.orders.getOrder(.with { $0.id = order.id }, options: try await asUser(user))
            #expect(read.status == .delivered)
            #expect(try await shop.stock(pen).available == 7)
        }
    }

    @Test("moves the state machine does not allow are FAILED_PRECONDITION", arguments: [
        ([Shop_Order_V1_OrderStatus](), Shop_Order_V1_OrderStatus.delivered),
        ([], .confirmed),
        ([], .pending),
        ([.shipped], .cancelled),
        ([.shipped], .confirmed),
        ([.shipped, .delivered], .shipped),
        ([.shipped, .delivered], .cancelled),
        ([.cancelled], .shipped),
        ([.cancelled], .confirmed),
    ])
    func forbiddenMoves(path: [Shop_Order_V1_OrderStatus], target: Shop_Order_V1_OrderStatus) async throws {
        try await withShop { shop in
            let (_, _, order) = try await placed(shop)
            for status in path { _ = try await move(shop, order.id, to: status) }
            let error = await rpcError { _ = try await move(shop, order.id, to: target) }
            #expect(error?.code == .failedPrecondition)
        }
    }

    @Test("an admin cancelling through UpdateOrderStatus also returns the stock")
    func adminCancelsByStatus() async throws {
        try await withShop { shop in
            let (_, pen, order) = try await placed(shop)
            let cancelled = try await move(shop, order.id, to: .cancelled)
            #expect(cancelled.status == .cancelled)
            #expect(try await shop.stock(pen).available == 10)
        }
    }

    @Test("a user may not change an order's status, even their own: PERMISSION_DENIED")
    func userMayNotUpdateStatus() async throws {
        try await withShop { shop in
            let (user, _, order) = try await placed(shop)
            let error = await rpcError { _ = try await move(shop, order.id, to: .shipped, options: try await asUser(user)) }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test("an unspecified status is INVALID_ARGUMENT; an unknown order NOT_FOUND")
    func badStatusRequests() async throws {
        try await withShop { shop in
            let (_, _, order) = try await placed(shop)
            let unspecified = await rpcError { _ = try await move(shop, order.id, to: .unspecified) }
            #expect(unspecified?.code == .invalidArgument)
            #expect(unspecified?.message.hasPrefix("status:") == true)
            let unknown = await rpcError { _ = try await move(shop, Validation.newID(), to: .shipped) }
            #expect(unknown?.code == .notFound)
        }
    }
}
