import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("Invariants under load")
struct InvariantTests {
    /// What one idempotency key came to: the order, or the error's code.
    private enum Outcome: Equatable, Sendable {
        case order(String)
        case failed(RPCError.Code)
    }

    @Test("after concurrent orders, retries and cancellations, stock is conserved, keys are unique and each order is notified once")
    func burstKeepsInvariants() async throws {
        try await withShop { shop in
            let users = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<4 { group.addTask { try await shop.newUser() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let initial: [String: Int32] = [
                try await shop.newProduct(price: 100, stock: 30, name: "Pen"): 30,
                try await shop.newProduct(price: 250, stock: 20, name: "Cup"): 20,
            ]
            let products = initial.keys.sorted()
            // One client per user, as several front doors would.
            let clients = users.map { _ in RPCClient.testing(port: shop.orderPort, calling: "order") }
            defer { clients.forEach { $0.shutdown() } }

            // 40 orders, each sent twice at once under one key (a retry
            // racing the original); every third that succeeds is cancelled
            // while the others are still being placed.
            let outcomes = try await withThrowingTaskGroup(of: (Int, Outcome, Outcome, Bool).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let user = users[index % users.count]
                        let client = OrderServiceClient(clients[index % clients.count])
                        var items: [(product: String, quantity: Int32)] = [(products[0], Int32(1 + index % 3))]
                        if index % 2 == 0 { items.append((products[1], Int32(1 + index % 4 / 2))) }
                        let request = orderRequest(items, key: "burst-\(index)")
                        @Sendable func place() async -> Outcome {
                            do {
                                return .order(try await client.createOrder(request, options: asUser(user)).id)
                            } catch let error as RPCError {
                                return .failed(error.code)
                            } catch {
                                return .failed(.unknown)
                            }
                        }
                        async let original = place()
                        async let retry = place()
                        let (first, second) = await (original, retry)
                        var cancelled = false
                        if case .order(let id) = first, index % 3 == 0 {
                            _ = try await client.cancelOrder(.with { $0.id = id }, options: asUser(user))
                            cancelled = true
                        }
                        return (index, first, second, cancelled)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            // Every key came to one outcome, and only stock ran out.
            for (index, first, second, _) in outcomes {
                #expect(first == second, "key burst-\(index): \(first) vs \(second)")
                if case .failed(let code) = first { #expect(code == .failedPrecondition, "key burst-\(index)") }
            }
            var placed: Set<String> = []
            var cancelledIDs: Set<String> = []
            for (_, first, _, cancelled) in outcomes {
                if case .order(let id) = first {
                    placed.insert(id)
                    if cancelled { cancelledIDs.insert(id) }
                }
            }
            #expect(placed.count > 0, "some orders must fit in the stock")
            #expect(placed.count < 40, "the stock must run out")

            // Each order that a client saw exists exactly once, and nothing else.
            let stored = try await shop.orders.listOrders(.with { $0.limit = 1000 }, options: asAdmin()).orders
            #expect(stored.count == placed.count)
            #expect(Set(stored.map(\.id)) == placed)
            #expect(Set(stored.filter { $0.status == .cancelled }.map(\.id)) == cancelledIDs)

            // initial = available + reserved + committed, for every product.
            for product in products {
                let committed = stored
                    .filter { $0.status != .cancelled }
                    .flatMap(\.items)
                    .filter { $0.productID == product }
                    .reduce(Int32(0)) { $0 + $1.quantity }
                let stock = try await shop.stock(product)
                #expect(stock.reserved == 0, "product \(product)")
                #expect(stock.available + stock.reserved + committed == initial[product], "product \(product)")
            }

            // Once the outbox drains: one confirmation per order, one
            // cancellation per cancelled order.
            func count(_ kind: String, _ notifications: [Shop_Notification_V1_Notification]) -> Int {
                notifications.filter { $0.kind == kind }.count
            }
            var notifications: [Shop_Notification_V1_Notification] = []
            let drained = try await eventually(timeout: .seconds(30)) {
                notifications = try await shop.allNotifications()
                return count("order_confirmed", notifications) >= placed.count
                    && count("order_cancelled", notifications) >= cancelledIDs.count
            }
            #expect(drained)
            #expect(Set(notifications.map(\.eventID)).count == notifications.count)
            for order in stored {
                let confirmations = notifications.filter { $0.kind == "order_confirmed" && $0.subject.contains(order.id) }
                #expect(confirmations.count == 1, "order \(order.id)")
                #expect(confirmations.first?.userID == order.userID)
                let cancellations = notifications.filter { $0.kind == "order_cancelled" && $0.subject.contains(order.id) }
                #expect(cancellations.count == (cancelledIDs.contains(order.id) ? 1 : 0), "order \(order.id)")
            }
        }
    }
}
