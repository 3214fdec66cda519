import FrameRPC
import Foundation
import ServiceTesting
import ShopAPI
import ShopAuth
import Supervisor
import Testing

/// The system on PostgreSQL with two processes of every service, as
/// `shop up --database-url URL --replicas 2` runs it: real processes, a
/// real PostgreSQL (a throwaway server of the test's own), orders through
/// the real gateway, replicas killed with SIGKILL.
///
/// The two inventory replicas racing for the last units are
/// InventoryReplicaTests' (in-process replicas on one database).
@Suite(
    "Replicas on PostgreSQL",
    .serialized,
    .enabled(if: PostgresServer.isInstalled, "no PostgreSQL server installed (apt-get install postgresql)")
)
struct ReplicaFailoverTests {
    /// Short reservations, swept often, so that one left by a killed
    /// replica expires within the test.
    static let settings = ["SHOP_RESERVATION_TTL_SECONDS": "5", "SHOP_RESERVATION_SWEEP_SECONDS": "1"]
    static let initialStock = 500
    static let clients = 4
    static let ordersPerClient = 12

    @Test("orders from several clients while an order, an inventory and a product replica are killed in turn: none lost or doubled, stock conserved, no reservation left, one notification per order")
    func killingReplicasLosesNothing() async throws {
        let database = try await PostgresServer.start()
        let url = try await database.createDatabase("shop")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        do {
            let system = try await ShopUpProcess.start(dataDirectory: folder.path, replicas: 2, settings: Self.settings, extraArguments: ["--database-url", url])
            try await placeOrdersWhileKilling(system)
            #expect(await system.stop() == 0)
        } catch {
            Issue.record(error)
        }
        await database.stop()
    }

    @Test("a watcher connected to one order replica sees a status change made through the other")
    func watchersSeeChangesMadeOnAnotherReplica() async throws {
        let database = try await PostgresServer.start()
        let url = try await database.createDatabase("shop")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        do {
            let system = try await ShopUpProcess.start(dataDirectory: folder.path, replicas: 2, settings: Self.settings, extraArguments: ["--database-url", url])
            try await watchAcrossReplicas(system)
            #expect(await system.stop() == 0)
        } catch {
            Issue.record(error)
        }
        await database.stop()
    }

    // MARK: The order load and its checks

    /// One order a client meant to place: its key, and what the system
    /// answered (the order's id once a 201 came).
    struct Attempt: Sendable {
        let key: String
        let userID: String
        let productID: String
        let quantity: Int
        var orderID: String?
        var answers: [Int] = []
    }

    private func placeOrdersWhileKilling(_ system: ShopUpProcess) async throws {
        let admin = try await login(system, DevelopmentSecrets.adminEmail, DevelopmentSecrets.adminPassword)
        var products: [String] = []
        for index in 0..<3 {
            let created = await system.send("POST", "/api/products/", token: admin, json: #"{"name":"Replica \#(index)","description":"For the replica test","price":5.00,"category":"tools"}"#)
            let id = try #require(object(created.json)?["id"] as? String, "create product: \(created)")
            let stocked = await system.send("PUT", "/api/inventory/\(id)", token: admin, json: #"{"available":\#(Self.initialStock)}"#)
            try #require(stocked.status == 200, "set stock: \(stocked)")
            products.append(id)
        }
        var users: [(id: String, token: String)] = []
        for index in 0..<Self.clients {
            let email = "replica-\(index)-\(UUID().uuidString.prefix(6).lowercased())@example.com"
            let registered = await system.send("POST", "/api/users/", json: #"{"email":"\#(email)","full_name":"Client \#(index)","password":"correct horse battery"}"#)
            let id = try #require(object(registered.json)?["id"] as? String, "register: \(registered)")
            users.append((id, try await login(system, email, "correct horse battery")))
        }

        // The clients place their orders while the killer kills one replica
        // of order, inventory and product in turn, waiting for each restart.
        let attempts = try await withThrowingTaskGroup(of: [Attempt].self) { group in
            for (index, user) in users.enumerated() {
                let products = products
                group.addTask {
                    var attempts: [Attempt] = []
                    for number in 0..<Self.ordersPerClient {
                        var attempt = Attempt(key: "replica-\(index)-\(number)-\(UUID().uuidString)", userID: user.id, productID: products[(index + number) % products.count], quantity: 1 + number % 3)
                        await self.place(&attempt, token: user.token, on: system)
                        attempts.append(attempt)
                    }
                    return attempts
                }
            }
            group.addTask {
                for child in ["order-1", "inventory-2", "product-1"] {
                    try await Task.sleep(for: .seconds(1))
                    let mark = system.output.lines.count
                    guard let pid = system.pid(of: child) else {
                        Issue.record("no pid for \(child)")
                        continue
                    }
                    kill(pid, SIGKILL)
                    let restarted = await system.output.waitFor(timeout: .seconds(60), after: mark) { $0.contains("| \(child) restarted and ready") }
                    #expect(restarted != nil, "\(child) was not restarted")
                }
                return []
            }
            var all: [Attempt] = []
            for try await part in group { all += part }
            return all
        }

        // Every attempt was acknowledged (the system stayed available), each
        // key with one order id however often it was retried.
        #expect(attempts.count == Self.clients * Self.ordersPerClient)
        for attempt in attempts {
            #expect(attempt.orderID != nil, "\(attempt.key) never acknowledged: \(attempt.answers)")
        }
        let acknowledged = attempts.compactMap(\.orderID)
        #expect(Set(acknowledged).count == acknowledged.count, "two keys share an order id")

        // Every acknowledged order exists exactly once, and no other does.
        var confirmed: [String: (productID: String, quantity: Int)] = [:]
        for user in users {
            let listed = await system.send("GET", "/api/orders/", token: user.token)
            let orders = try #require(array(listed.json), "list orders: \(listed)")
            let ids = orders.compactMap { object($0)?["id"] as? String }
            #expect(Set(ids).count == ids.count, "\(user.id) has an order twice")
            let expected = Set(attempts.filter { $0.userID == user.id }.compactMap(\.orderID))
            #expect(Set(ids) == expected, "\(user.id): listed \(ids.count), acknowledged \(expected.count)")
            for order in orders.compactMap(object) where (order["status"] as? String) == "confirmed" {
                let items = (order["items"] as? [Any])?.compactMap(object) ?? []
                for item in items {
                    if let id = order["id"] as? String, let product = item["product_id"] as? String, let quantity = item["quantity"] as? Int {
                        confirmed[id] = (product, quantity)
                    }
                }
            }
        }
        #expect(confirmed.count == acknowledged.count, "every acknowledged order is confirmed")

        // Stock conserved, and nothing left reserved, once the system has
        // settled: available + reserved + sold = initial. Settling takes a
        // while after the kills: a reservation held by a killed replica
        // expires (5 s) and is swept back, and a commit event that a killed
        // order replica had claimed is delivered by the other one only
        // when its claim ends (30 s), taking the units again. Until then
        // the sum may be off; after 90 s it must not be.
        for product in products {
            let sold = confirmed.values.filter { $0.productID == product }.map(\.quantity).reduce(0, +)
            var stock: (available: Int, reserved: Int)?
            let deadline = ContinuousClock.now + .seconds(90)
            repeat {
                let read = await system.send("GET", "/api/inventory/\(product)")
                if let body = object(read.json), let available = body["available"] as? Int {
                    stock = (available, body["reserved"] as? Int ?? 0)
                }
                if let stock, stock.reserved == 0, stock.available + sold == Self.initialStock { break }
                try await Task.sleep(for: .milliseconds(500))
            } while ContinuousClock.now < deadline
            #expect(stock?.reserved == 0, "\(product): a reservation was left behind: \(String(describing: stock))")
            #expect(stock.map { $0.available + $0.reserved + sold } == Self.initialStock, "\(product): available \(String(describing: stock)), sold \(sold)")
        }

        // Exactly one notification per confirmed order (the outbox delivers
        // at least once, the notification service keeps one per event): each
        // order named by exactly one order_confirmed notification.
        for user in users {
            let orders = Set(attempts.filter { $0.userID == user.id }.compactMap(\.orderID))
            var notifications: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(60)
            repeat {
                let listed = await system.send("GET", "/api/notifications/", token: user.token)
                notifications = (array(listed.json) ?? []).compactMap { object($0) }.filter { ($0["kind"] as? String) == "order_confirmed" }
                if notifications.count >= orders.count { break }
                try await Task.sleep(for: .milliseconds(500))
            } while ContinuousClock.now < deadline
            #expect(notifications.count == orders.count, "\(user.id): \(notifications.count) notifications for \(orders.count) orders")
            let events = notifications.compactMap { $0["event_id"] as? String }
            #expect(Set(events).count == notifications.count, "\(user.id): one notification per event")
            for order in orders {
                let naming = notifications.filter { "\($0["subject"] ?? "") \($0["body"] ?? "")".contains(order) }
                #expect(naming.count == 1, "order \(order) has \(naming.count) notifications")
            }
        }
    }

    /// Places `attempt`, retrying with its key after anything but a 201
    /// (a connection cut by a kill, a 5xx), for up to a minute.
    private func place(_ attempt: inout Attempt, token: String, on system: ShopUpProcess) async {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let reply = await system.send(
                "POST", "/api/orders/", token: token,
                json: #"{"items":[{"product_id":"\#(attempt.productID)","quantity":\#(attempt.quantity)}]}"#,
                headers: ["Idempotency-Key": attempt.key]
            )
            attempt.answers.append(reply.status)
            if reply.status == 201, let id = object(reply.json)?["id"] as? String {
                if let earlier = attempt.orderID, earlier != id {
                    Issue.record("\(attempt.key) answered \(earlier) and then \(id)")
                }
                attempt.orderID = id
                return
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    // MARK: Watching across replicas

    private func watchAcrossReplicas(_ system: ShopUpProcess) async throws {
        let admin = try await login(system, DevelopmentSecrets.adminEmail, DevelopmentSecrets.adminPassword)
        let created = await system.send("POST", "/api/products/", token: admin, json: #"{"name":"Watched","description":"For the watch test","price":3.00,"category":"tools"}"#)
        let product = try #require(object(created.json)?["id"] as? String, "\(created)")
        _ = await system.send("PUT", "/api/inventory/\(product)", token: admin, json: #"{"available":5}"#)
        let ordered = await system.send("POST", "/api/orders/", token: admin, json: #"{"items":[{"product_id":"\#(product)","quantity":1}]}"#)
        let orderID = try #require(object(ordered.json)?["id"] as? String, "\(ordered)")
        let metadata: Metadata = ["authorization": "Bearer \(admin)"]

        // The watcher on order-1; the change through order-2.
        let watching = system.client(for: "order", replica: 1)
        let changing = system.client(for: "order", replica: 2)
        defer {
            watching.shutdown()
            changing.shutdown()
        }
        let seen = try await withThrowingTaskGroup(of: Shop_Order_V1_OrderStatus?.self) { group in
            group.addTask {
                try await OrderServiceClient(watching).watchOrder(.with { $0.id = orderID }, options: CallOptions(timeout: .seconds(30), metadata: metadata)) { stream in
                    var first = true
                    for try await order in stream {
                        if first {
                            first = false
                            continue
                        }
                        return order.status
                    }
                    return nil
                }
            }
            group.addTask {
                // Once the watch is open (its first message is the current order).
                try await Task.sleep(for: .seconds(2))
                _ = try await OrderServiceClient(changing).updateOrderStatus(.with {
                    $0.id = orderID
                    $0.status = .shipped
                }, options: CallOptions(timeout: .seconds(10), metadata: metadata))
                return nil
            }
            var seen: Shop_Order_V1_OrderStatus?
            for try await status in group where status != nil { seen = status }
            return seen
        }
        #expect(seen == .shipped, "the watcher on order-1 saw \(String(describing: seen))")
    }

    // MARK: Helpers

    private func login(_ system: ShopUpProcess, _ email: String, _ password: String) async throws -> String {
        let reply = await system.send("POST", "/api/auth/login", json: #"{"email":"\#(email)","password":"\#(password)"}"#)
        return try #require(object(reply.json)?["access_token"] as? String, "login \(email): \(reply)")
    }

    private func object(_ json: Any?) -> [String: Any]? { json as? [String: Any] }

    /// A list answer: the array itself, or the one array in an object (a
    /// paged list's items).
    private func array(_ json: Any?) -> [Any]? {
        if let array = json as? [Any] { return array }
        return (json as? [String: Any])?.values.compactMap { $0 as? [Any] }.first
    }
}
