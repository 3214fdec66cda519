import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("WatchOrder")
struct WatchOrderTests {
    private func placed(_ shop: Shop) async throws -> (user: String, order: Shop_Order_V1_Order) {
        let user = try await shop.newUser()
        let pen = try await shop.newProduct(price: 100, stock: 10)
        return (user, try await shop.order([(pen, 1)], by: user))
    }

    private func move(_ shop: Shop, _ orderID: String, to status: Shop_Order_V1_OrderStatus) async throws {
        _ = try await shop.orders.updateOrderStatus(.with { $0.id = orderID; $0.status = status }, options: try await asAdmin())
    }

    @Test("the watch gets the current order, then each status change, and ends after delivered")
    func streamsUntilDelivered() async throws {
        try await withShop { shop in
            let (user, order) = try await placed(shop)
            let seen = try await shop.orders.watchOrder(.with { $0.id = order.id }, options: try await asUser(user)) { stream in
                var seen: [Shop_Order_V1_Order] = []
                for try await update in stream {
                    seen.append(update)
                    // Each change is made only after the previous one was
                    // seen, so the watch cannot miss it by timing.
                    switch seen.count {
                    case 1: try await move(shop, order.id, to: .shipped)
                    case 2: try await move(shop, order.id, to: .delivered)
                    default: break
                    }
                }
                return seen
            }
            #expect(seen.map(\.status) == [.confirmed, .shipped, .delivered])
            #expect(seen.allSatisfy { $0.id == order.id && $0.items == order.items })
        }
    }

    @Test("the watch ends after the order is cancelled")
    func endsAfterCancel() async throws {
        try await withShop { shop in
            let (user, order) = try await placed(shop)
            let statuses = try await shop.orders.watchOrder(.with { $0.id = order.id }, options: try await asUser(user)) { stream in
                var statuses: [Shop_Order_V1_OrderStatus] = []
                for try await update in stream {
                    statuses.append(update.status)
                    if statuses.count == 1 {
                        _ = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asUser(user))
                    }
                }
                return statuses
            }
            #expect(statuses == [.confirmed, .cancelled])
        }
    }

    @Test("watching a delivered order yields it once and ends")
    func finishedOrder() async throws {
        try await withShop { shop in
            let (user, order) = try await placed(shop)
            try await move(shop, order.id, to: .shipped)
            try await move(shop, order.id, to: .delivered)
            let statuses = try await shop.orders.watchOrder(.with { $0.id = order.id }, options: try await asUser(user)) { stream in
                try await stream.reduce(into: [Shop_Order_V1_OrderStatus]()) { $0.append($1.status) }
            }
            #expect(statuses == [.delivered])
        }
    }

    @Test("every watcher of an order sees each change")
    func severalWatchers() async throws {
        try await withShop { shop in
            let (user, order) = try await placed(shop)
            let ready = AsyncStream.makeStream(of: Void.self)
            let results = try await withThrowingTaskGroup(of: [Shop_Order_V1_OrderStatus].self) { group in
                for options in [try await asUser(user), try await asAdmin()] {
                    group.addTask {
                        try await shop.orders.watchOrder(.with { $0.id = order.id }, options: options) { stream in
                            var statuses: [Shop_Order_V1_OrderStatus] = []
                            for try await update in stream {
                                statuses.append(update.status)
                                if statuses.count == 1 { ready.continuation.yield() }
                            }
                            return statuses
                        }
                    }
                }
                // Both watchers have their first message, so both are
                // subscribed: change the order now.
                var iterator = ready.stream.makeAsyncIterator()
                _ = await iterator.next()
                _ = await iterator.next()
                try await move(shop, order.id, to: .shipped)
                try await move(shop, order.id, to: .delivered)
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results == [[.confirmed, .shipped, .delivered], [.confirmed, .shipped, .delivered]])
        }
    }

    @Test("watching someone else's order is PERMISSION_DENIED, an unknown one NOT_FOUND")
    func watchErrors() async throws {
        try await withShop { shop in
            let (_, order) = try await placed(shop)
            let other = try await shop.newUser()
            let denied = await rpcError {
                _ = try await shop.orders.watchOrder(.with { $0.id = order.id }, options: try await asUser(other)) { stream in
                    try await stream.reduce(0) { count, _ in count + 1 }
                }
            }
            #expect(denied?.code == .permissionDenied)
            let unknown = await rpcError {
                _ = try await shop.orders.watchOrder(.with { $0.id = Validation.newID() }, options: try await asUser(other)) { stream in
                    try await stream.reduce(0) { count, _ in count + 1 }
                }
            }
            #expect(unknown?.code == .notFound)
        }
    }

    @Test("a watcher that leaves early does not disturb later changes")
    func leavingEarly() async throws {
        try await withShop { shop in
            let (user, order) = try await placed(shop)
            let first = try await shop.orders.watchOrder(.with { $0.id = order.id }, options: try await asUser(user)) { stream in
                var iterator = stream.makeAsyncIterator()
                return try await iterator.next()?.status
            }
            #expect(first == .confirmed)
            try await move(shop, order.id, to: .shipped)
            let read = try await shop.orders.getOrder(.with { $0.id = order.id }, options: try await asUser(user))
            #expect(read.status == .shipped)
        }
    }
}
