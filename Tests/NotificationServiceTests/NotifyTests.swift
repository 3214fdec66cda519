import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("Notify")
struct NotifyTests {
    @Test("an order_confirmed event becomes a notification naming the order and its total")
    func rendersOrderConfirmed() async throws {
        try await withNotificationService { client in
            let user = Validation.newID()
            let order = Validation.newID()
            let event = Validation.newID()
            let notification = try await client.notify(notifyRequest(
                event: event, user: user, data: ["order_id": order, "total": "5997"]
            ))
            #expect(!notification.id.isEmpty)
            #expect(notification.eventID == event)
            #expect(notification.userID == user)
            #expect(notification.kind == "order_confirmed")
            #expect(notification.subject == "Your order \(order) is confirmed")
            #expect(notification.body.contains(order))
            #expect(notification.body.contains("59.97"))
            #expect(notification.hasCreatedAt)
        }
    }

    @Test("each order kind has its own text", arguments: [
        ("order_cancelled", "is cancelled"),
        ("order_shipped", "has shipped"),
        ("order_delivered", "has been delivered"),
        ("order_cancelled_out_of_stock", "could not be completed"),
    ])
    func rendersOrderKinds(kind: String, phrase: String) async throws {
        try await withNotificationService { client in
            let order = Validation.newID()
            let notification = try await client.notify(notifyRequest(
                user: Validation.newID(), kind: kind, data: ["order_id": order]
            ))
            #expect(notification.subject == "Your order \(order) \(phrase)")
            #expect(notification.body.contains(order))
        }
    }

    @Test("an order cancelled for lack of stock says which product sold out and what it cost")
    func rendersOrderCancelledOutOfStock() async throws {
        try await withNotificationService { client in
            let (order, product) = (Validation.newID(), Validation.newID())
            let notification = try await client.notify(notifyRequest(
                user: Validation.newID(), kind: "order_cancelled_out_of_stock",
                data: ["order_id": order, "product_id": product, "total": "1250"]
            ))
            #expect(notification.subject == "Your order \(order) could not be completed")
            #expect(notification.body.contains("cancelled"))
            #expect(notification.body.contains("product \(product) sold out"))
            #expect(notification.body.contains("12.50"))
        }
    }

    @Test("an unknown kind gets a generic text")
    func rendersUnknownKindGenerically() async throws {
        try await withNotificationService { client in
            let notification = try await client.notify(notifyRequest(
                user: Validation.newID(), kind: "loyalty_points_added", data: ["points": "10"]
            ))
            #expect(notification.kind == "loyalty_points_added")
            #expect(notification.subject == "News about your account")
            #expect(notification.body.contains("loyalty_points_added"))
        }
    }

    @Test("a known kind without the facts it needs gets the generic text")
    func rendersIncompleteEventGenerically() async throws {
        try await withNotificationService { client in
            let notification = try await client.notify(notifyRequest(user: Validation.newID(), data: [:]))
            #expect(notification.subject == "News about your account")
        }
    }

    @Test("delivering an event id again returns the first notification and creates nothing")
    func repeatedEventIsIdempotent() async throws {
        try await withNotificationService { client in
            let user = Validation.newID()
            let event = Validation.newID()
            let first = try await client.notify(notifyRequest(
                event: event, user: user, data: ["order_id": Validation.newID(), "total": "100"]
            ))
            let again = try await client.notify(notifyRequest(
                event: event, user: user, data: ["order_id": Validation.newID(), "total": "200"]
            ))
            #expect(again == first)
            let listed = try await client.listNotifications(listRequest(user: user))
            #expect(listed.notifications == [first])
        }
    }

    @Test("concurrent deliveries of one event id create exactly one notification")
    func concurrentRepeatsCreateOne() async throws {
        try await withNotificationService { client in
            let user = Validation.newID()
            let event = Validation.newID()
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await client.notify(notifyRequest(event: event, user: user, data: ["order_id": "o-1"])).id
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            let listed = try await client.listNotifications(listRequest(user: user))
            #expect(listed.notifications.map(\.id) == Array(ids))
        }
    }

    @Test("an event delivered before a restart is still recognised after it")
    func idempotencySurvivesRestart() async throws {
        let data = try TemporaryDirectory()
        defer { data.remove() }
        let user = Validation.newID()
        let event = Validation.newID()
        let first = try await withNotificationService(dataDirectory: data.path) { client in
            try await client.notify(notifyRequest(event: event, user: user, data: ["order_id": "o-1"]))
        }
        try await withNotificationService(dataDirectory: data.path) { client in
            let again = try await client.notify(notifyRequest(event: event, user: user, data: ["order_id": "o-1"]))
            #expect(again == first)
            let listed = try await client.listNotifications(listRequest(user: user))
            #expect(listed.notifications.count == 1)
        }
    }

    @Test("an admin may send a notification")
    func adminMayNotify() async throws {
        try await withNotificationService { client in
            let notification = try await client.notify(notifyRequest(user: Validation.newID()), options: asAdmin())
            #expect(!notification.id.isEmpty)
        }
    }

    @Test("a user may not send notifications: PERMISSION_DENIED")
    func userMayNotNotify() async throws {
        try await withNotificationService { client in
            let user = Validation.newID()
            let error = await rpcError {
                _ = try await client.notify(notifyRequest(user: user), options: asUser(user))
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test("invalid requests are INVALID_ARGUMENT naming the field", arguments: [
        ("event_id", notifyRequest(event: "", user: "7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f")),
        ("user_id", notifyRequest(user: "")),
        ("user_id", notifyRequest(user: "not-a-uuid")),
        ("kind", notifyRequest(user: "7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f", kind: "")),
        ("kind", notifyRequest(user: "7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f", kind: "Order Confirmed!")),
        ("data", notifyRequest(
            user: "7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f",
            data: Dictionary(uniqueKeysWithValues: (0..<51).map { ("k\($0)", "v") })
        )),
        ("data.note", notifyRequest(
            user: "7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f",
            data: ["note": String(repeating: "x", count: 1_001)]
        )),
    ])
    func invalidRequests(field: String, request: Shop_Notification_V1_NotifyRequest) async throws {
        try await withNotificationService { client in
            let error = await rpcError { _ = try await client.notify(request) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(field):") == true)
        }
    }
}
