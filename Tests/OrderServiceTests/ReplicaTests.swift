import FrameRPC
import Foundation
import InventoryService
import NotificationService
import OrderService
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing
import UserService

/// Two order service instances on one PostgreSQL database beside the four
/// services they call, every hop real TCP: what must hold when no single
/// process runs the outbox or sees every change.
@Suite("Order replicas on one PostgreSQL database")
struct OrderReplicaTests {
    struct Replicas: Sendable {
        let a: OrderServiceClient
        let b: OrderServiceClient
        let users: UserServiceClient
        let products: ProductServiceClient
        let inventory: InventoryServiceClient
        let notifications: NotificationServiceClient
        /// Calls the notification service served.
        let notifyCalls: CallCounter

        func newUser() async throws -> String {
            try await users.createUser(.with {
                $0.email = "replica-\(Validation.newID())@example.com"
                $0.fullName = "Replica User"
                $0.password = "correct horse battery"
            }).id
        }

        func newProduct(stock: Int32) async throws -> String {
            let id = try await products.createProduct(.with {
                $0.name = "Replica widget"
                $0.description_p = "A product for replica tests"
                $0.price = 250
                $0.category = "tests"
            }, options: try await asAdmin()).id
            _ = try await inventory.setStock(.with { $0.productID = id; $0.available = stock }, options: try await asAdmin())
            return id
        }
    }

    func withReplicas<Result: Sendable>(_ body: (Replicas) async throws -> Result) async throws -> Result {
        let url = try await PostgresServer.shared().createDatabase()
        let folders = try (0..<6).map { _ in try TemporaryDirectory() }
        defer { folders.forEach { $0.remove() } }
        func environment(_ index: Int, _ name: String, settings: [String: String] = TestSigning.settings, upstreams: [String: ServiceEndpoint] = [:]) -> ServiceEnvironment {
            ServiceEnvironment(
                dataDirectory: folders[index].path, upstreams: upstreams,
                settings: settings.merging([ServiceDatabase.urlSetting: url]) { own, _ in own },
                tls: TestPKI.shared.server(as: name), logger: testLogger(name)
            )
        }
        let notifyCalls = CallCounter()
        return try await withRunningService(UserServiceApp.factory, environment: environment(0, "user", settings: userServiceSettings)) { userPort in
            try await withRunningService(ProductServiceApp.factory, environment: environment(1, "product")) { productPort in
                try await withRunningService(InventoryServiceApp.factory, environment: environment(2, "inventory")) { inventoryPort in
                    try await withRunningService(NotificationServiceApp.factory, environment: environment(3, "notification"), interceptors: [notifyCalls]) { notificationPort in
                        let upstreams = [
                            "user": ServiceEndpoint(port: userPort),
                            "product": ServiceEndpoint(port: productPort),
                            "inventory": ServiceEndpoint(port: inventoryPort),
                            "notification": ServiceEndpoint(port: notificationPort),
                        ]
                        return try await withRunningService(OrderServiceApp.factory, environment: environment(4, "order", upstreams: upstreams)) { aPort in
                            try await withRunningService(OrderServiceApp.factory, environment: environment(5, "order", upstreams: upstreams)) { bPort in
                                let clients = zip([aPort, bPort, userPort, productPort, inventoryPort, notificationPort],
                                                  ["order", "order", "user", "product", "inventory", "notification"]).map {
                                    RPCClient.testing(port: $0, calling: $1)
                                }
                                defer { clients.forEach { $0.shutdown() } }
                                return try await body(Replicas(
                                    a: OrderServiceClient(clients[0]), b: OrderServiceClient(clients[1]),
                                    users: UserServiceClient(clients[2]), products: ProductServiceClient(clients[3]),
                                    inventory: InventoryServiceClient(clients[4]), notifications: NotificationServiceClient(clients[5]),
                                    notifyCalls: notifyCalls
                                ))
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("two outbox relays on one database deliver each notification event once")
    func relaysDeliverEachEventOnce() async throws {
        try await withReplicas { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(stock: 100)
            let orders = 16
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<orders {
                    let replica = index.isMultiple(of: 2) ? shop.a : shop.b
                    group.addTask {
                        _ = try await replica.createOrder(orderRequest([(pen, 1)]), options: try await asUser(user))
                    }
                }
                try await group.waitForAll()
            }
            let notify = "/shop.notification.v1.NotificationService/Notify"
            let deadline = ContinuousClock.now + .seconds(30)
            while shop.notifyCalls.count(of: notify) < orders, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            // Both relays poll every second: give a second delivery time to happen.
            try await Task.sleep(for: .seconds(2))
            #expect(shop.notifyCalls.count(of: notify) == orders)
            let stored = try await shop.notifications.listNotifications(.with { $0.limit = 1000 }, options: try await asAdmin()).notifications
            #expect(stored.filter { $0.userID == user }.count == orders)
        }
    }

    @Test("a watcher connected to one replica sees the status changes made through the other")
    func watcherSeesOtherReplicasChanges() async throws {
        try await withReplicas { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(stock: 5)
            let order = try await shop.a.createOrder(orderRequest([(pen, 1)]), options: try await asUser(user))
            let statuses = try await shop.b.watchOrder(.with { $0.id = order.id }, options: try await asUser(user)) { stream in
                var statuses: [Shop_Order_V1_OrderStatus] = []
                for try await update in stream {
                    statuses.append(update.status)
                    // Each change only after the previous one was seen on B.
                    switch statuses.count {
                    case 1: _ = try await shop.a.updateOrderStatus(.with { $0.id = order.id; $0.status = .shipped }, options: try await asAdmin())
                    case 2: _ = try await shop.a.updateOrderStatus(.with { $0.id = order.id; $0.status = .delivered }, options: try await asAdmin())
                    default: break
                    }
                }
                return statuses
            }
            #expect(statuses == [.confirmed, .shipped, .delivered])
        }
    }

    @Test("one idempotency key used on both replicas at once places one order")
    func idempotencyKeyAcrossReplicas() async throws {
        try await withReplicas { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(stock: 10)
            let request = orderRequest([(pen, 2)], key: "replica-key-\(Validation.newID())")
            async let first = shop.a.createOrder(request, options: try await asUser(user))
            async let second = shop.b.createOrder(request, options: try await asUser(user))
            let (one, two) = try await (first, second)
            #expect(one.id == two.id)
            let listed = try await shop.a.listOrders(.with { $0.userID = user }, options: try await asUser(user)).orders
            #expect(listed.count == 1)
            // The loser's reservation was released: only one order's units are held.
            let deadline = ContinuousClock.now + .seconds(20)
            var stock = try await shop.inventory.getStock(.with { $0.productID = pen })
            while stock.available != 8, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                stock = try await shop.inventory.getStock(.with { $0.productID = pen })
            }
            #expect(stock.available == 8)
        }
    }
}
