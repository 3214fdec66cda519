import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopObservability
import Testing

@Suite("Notifications through the outbox")
struct OutboxTests {
    /// The owner's notifications once `count` have arrived (or what there
    /// is after the timeout), newest first.
    private func notifications(of user: String, count: Int, in shop: Shop) async throws -> [Shop_Notification_V1_Notification] {
        var latest: [Shop_Notification_V1_Notification] = []
        _ = try await eventually {
            latest = try await shop.notifications.listNotifications(.init(), options: try await asUser(user)).notifications
            return latest.count >= count
        }
        return latest
    }

    @Test("a confirmed order brings its owner exactly one order_confirmed notification")
    func confirmationNotified() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 250, stock: 10)
            let order = try await shop.order([(pen, 2)], by: user)
            let received = try await notifications(of: user, count: 1, in: shop)
            #expect(received.count == 1)
            let notification = try #require(received.first)
            #expect(notification.kind == "order_confirmed")
            #expect(notification.userID == user)
            #expect(notification.subject.contains(order.id))
            #expect(notification.body.contains("5.00"))
            #expect(!notification.eventID.isEmpty)
        }
    }

    @Test("cancelling an order notifies its owner after the confirmation")
    func cancellationNotified() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 250, stock: 10)
            let order = try await shop.order([(pen, 1)], by: user)
            _ = try await shop.orders.cancelOrder(.with { $0.id = order.id }, options: try await asUser(user))
            let received = try await notifications(of: user, count: 2, in: shop)
            #expect(received.map(\.kind) == ["order_cancelled", "order_confirmed"])
            #expect(received.allSatisfy { $0.subject.contains(order.id) })
        }
    }

    @Test("shipping and delivering notify the owner, in order")
    func shippingNotified() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 250, stock: 10)
            let order = try await shop.order([(pen, 1)], by: user)
            for status in [Shop_Order_V1_OrderStatus.shipped, .delivered] {
                _ = try await shop.orders.updateOrderStatus(.with { $0.id = order.id; $0.status = status }, options: try await asAdmin())
            }
            let received = try await notifications(of: user, count: 3, in: shop)
            #expect(received.map(\.kind) == ["order_delivered", "order_shipped", "order_confirmed"])
        }
    }

    @Test("the relay's metrics show the backlog and failed attempts during an outage, then the delivery")
    func relayMetrics() async throws {
        let metrics = MetricsRegistry()
        let notification = ["destination": "notification"]
        func sample(_ name: String) -> Double? { PrometheusText(metrics.exposition()).value(name, notification) }
        try await withShop(stoppable: .notification, orderMetrics: metrics) { shop in
            let notificationService = try #require(shop.stoppable)
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            await notificationService.stop()
            _ = try await shop.order([(pen, 1)], by: user)
            #expect(await eventually { (sample("outbox_delivery_failures_total") ?? 0) >= 1 })
            #expect(sample("outbox_pending_events") == 1)
            #expect(sample("outbox_events_delivered_total") == 0)

            try await notificationService.restart()
            #expect(await eventually { sample("outbox_events_delivered_total") == 1 && sample("outbox_pending_events") == 0 })
            #expect(try await notifications(of: user, count: 1, in: shop).count == 1)
        }
    }

    @Test("events written while the notification service is down are delivered once it is back, once each")
    func deliveredAfterOutage() async throws {
        try await withShop(stoppable: .notification) { shop in
            let notificationService = try #require(shop.stoppable)
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            await notificationService.stop()
            // Placing orders does not need the notification service.
            let first = try await shop.order([(pen, 1)], by: user)
            let second = try await shop.order([(pen, 1)], by: user)
            try await notificationService.restart()
            let received = try await notifications(of: user, count: 2, in: shop)
            #expect(received.count == 2)
            #expect(Set(received.map(\.kind)) == ["order_confirmed"])
            #expect(received.contains { $0.subject.contains(first.id) })
            #expect(received.contains { $0.subject.contains(second.id) })
        }
    }
}
