import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("CreateOrder")
struct CreateOrderTests {
    @Test("an order is confirmed with the catalog's prices and the total in cents, and its stock is sold")
    func happyPath() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 1999, stock: 10)
            let cup = try await shop.newProduct(price: 500, stock: 5)
            let order = try await shop.order([(pen, 3), (cup, 1)], by: user)
            #expect(!order.id.isEmpty)
            #expect(order.userID == user)
            #expect(order.status == .confirmed)
            #expect(order.items.map(\.productID) == [pen, cup])
            #expect(order.items.map(\.quantity) == [3, 1])
            #expect(order.items.map(\.unitPrice) == [1999, 500])
            #expect(order.totalAmount == 3 * 1999 + 500)
            #expect(order.hasCreatedAt && order.hasUpdatedAt)
            #expect(!order.hasUser)
            let penStock = try await shop.stock(pen)
            #expect(penStock.available == 7)
            #expect(penStock.reserved == 0)
            #expect(try await shop.stock(cup).available == 4)
        }
    }

    @Test("the order keeps the price it was placed at when the catalog changes later")
    func priceIsFixedAtOrderTime() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 1000, stock: 10)
            let order = try await shop.order([(pen, 2)], by: user)
            _ = try await shop.products.updateProduct(.with { $0.id = pen; $0.price = 5000 }, options: try await asAdmin())
            let again = try await shop.orders.getOrder(.with { $0.id = order.id }, options: try await asUser(user))
            #expect(again.items.first?.unitPrice == 1000)
            #expect(again.totalAmount == 2000)
        }
    }

    @Test("lines naming the same product twice become one line")
    func repeatedProductsMerge() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let order = try await shop.order([(pen, 2), (pen, 3)], by: user)
            #expect(order.items.count == 1)
            #expect(order.items.first?.quantity == 5)
            #expect(order.totalAmount == 500)
            #expect(try await shop.stock(pen).available == 5)
        }
    }

    @Test("an admin may place an order for another user")
    func adminOrdersForSomeoneElse() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let order = try await shop.orders.createOrder(orderRequest([(pen, 1)], user: user), options: try await asAdmin())
            #expect(order.userID == user)
        }
    }

    @Test("a user naming themselves in user_id places their own order")
    func userNamingThemselves() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let order = try await shop.orders.createOrder(orderRequest([(pen, 1)], user: user), options: try await asUser(user))
            #expect(order.userID == user)
        }
    }

    @Test("a user placing an order for someone else gets PERMISSION_DENIED and nothing is reserved")
    func userOrdersForSomeoneElse() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let other = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let error = await rpcError {
                _ = try await shop.orders.createOrder(orderRequest([(pen, 1)], user: other), options: try await asUser(user))
            }
            #expect(error?.code == .permissionDenied)
            #expect(try await shop.stock(pen).available == 10)
        }
    }

    @Test("a call without a token is anonymous and places no order: UNAUTHENTICATED, with or without user_id")
    func callWithoutUserPlacesNothing() async throws {
        try await withShop { shop in
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let user = try await shop.newUser()
            let withoutUser = await rpcError { _ = try await shop.orders.createOrder(orderRequest([(pen, 1)])) }
            #expect(withoutUser?.code == .unauthenticated)
            let forSomeone = await rpcError { _ = try await shop.orders.createOrder(orderRequest([(pen, 1)], user: user)) }
            #expect(forSomeone?.code == .unauthenticated)
            #expect(try await shop.stock(pen).available == 10)
        }
    }

    @Test("invalid items are INVALID_ARGUMENT naming the field", arguments: [
        ("items", [(String, Int32)]()),
        ("items[0].quantity", [("7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f", Int32(0))]),
        ("items[1].quantity", [("7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f", Int32(1)), ("8d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f", Int32(-2))]),
        ("items[0].product_id", [("", Int32(1))]),
        ("items[0].product_id", [("pen", Int32(1))]),
        ("items[0].quantity", [("7d6f0c4e-8a7e-4c55-9d3f-1b2a3c4d5e6f", Int32(10_001))]),
    ])
    func invalidItems(field: String, items: [(String, Int32)]) async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let error = await rpcError {
                _ = try await shop.orders.createOrder(orderRequest(items.map { ($0.0, $0.1) }), options: try await asUser(user))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(field):") == true, "\(error?.message ?? "no error")")
        }
    }

    @Test("a malformed user_id is INVALID_ARGUMENT")
    func malformedUserID() async throws {
        try await withShop { shop in
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let error = await rpcError {
                _ = try await shop.orders.createOrder(orderRequest([(pen, 1)], user: "bob"), options: try await asAdmin())
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("user_id:") == true)
        }
    }

    @Test("an unknown product is NOT_FOUND naming it, and nothing is reserved")
    func unknownProduct() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let ghost = Validation.newID()
            let error = await rpcError { _ = try await shop.order([(pen, 1), (ghost, 1)], by: user) }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains(ghost) == true)
            #expect(try await shop.stock(pen).available == 10)
            #expect(try await shop.orders.listOrders(.init(), options: try await asUser(user)).orders.isEmpty)
        }
    }

    @Test("an unknown user is FAILED_PRECONDITION")
    func unknownUser() async throws {
        try await withShop { shop in
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let error = await rpcError {
                _ = try await shop.orders.createOrder(orderRequest([(pen, 1)], user: Validation.newID()), options: try await asAdmin())
            }
            #expect(error?.code == .failedPrecondition)
            #expect(try await shop.stock(pen).available == 10)
        }
    }

    @Test("an inactive user is FAILED_PRECONDITION")
    func inactiveUser() async throws {
        try await withShop { shop in
            let user = try await shop.newUser(active: false)
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let error = await rpcError { _ = try await shop.order([(pen, 1)], by: user) }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("not active") == true)
        }
    }

    @Test("not enough stock is FAILED_PRECONDITION, and no item of the order is reserved")
    func notEnoughStock() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let cup = try await shop.newProduct(price: 100, stock: 1)
            let error = await rpcError { _ = try await shop.order([(pen, 2), (cup, 2)], by: user) }
            #expect(error?.code == .failedPrecondition)
            let penStock = try await shop.stock(pen)
            #expect(penStock.available == 10 && penStock.reserved == 0)
            let cupStock = try await shop.stock(cup)
            #expect(cupStock.available == 1 && cupStock.reserved == 0)
            #expect(try await shop.orders.listOrders(.init(), options: try await asUser(user)).orders.isEmpty)
        }
    }

    @Test("a product without a stock record is FAILED_PRECONDITION")
    func productWithoutStock() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let unstocked = try await shop.newProduct(price: 100)
            let error = await rpcError { _ = try await shop.order([(unstocked, 1)], by: user) }
            #expect(error?.code == .failedPrecondition)
        }
    }

    @Test("the same idempotency key twice returns the first order and sells the stock once")
    func idempotencyKey() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let first = try await shop.order([(pen, 2)], by: user, key: "checkout-1")
            let again = try await shop.order([(pen, 2)], by: user, key: "checkout-1")
            #expect(again.id == first.id)
            #expect(again.totalAmount == first.totalAmount)
            #expect(try await shop.stock(pen).available == 8)
            #expect(try await shop.orders.listOrders(.init(), options: try await asUser(user)).orders.count == 1)
        }
    }

    @Test("the idempotency-key metadata works like the request field")
    func idempotencyKeyMetadata() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            var options = try await asUser(user)
            options.metadata["idempotency-key"] = "header-key"
            let first = try await shop.orders.createOrder(orderRequest([(pen, 1)]), options: options)
            let again = try await shop.orders.createOrder(orderRequest([(pen, 1)]), options: options)
            let viaField = try await shop.order([(pen, 1)], by: user, key: "header-key")
            #expect(again.id == first.id)
            #expect(viaField.id == first.id)
            #expect(try await shop.stock(pen).available == 9)
        }
    }

    @Test("one idempotency key used by two users names two orders")
    func idempotencyKeyIsPerUser() async throws {
        try await withShop { shop in
            let alice = try await shop.newUser()
            let bob = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let alices = try await shop.order([(pen, 1)], by: alice, key: "same")
            let bobs = try await shop.order([(pen, 1)], by: bob, key: "same")
            #expect(alices.id != bobs.id)
            #expect(bobs.userID == bob)
        }
    }

    @Test("without a key, two identical requests are two orders")
    func noKeyNoDeduplication() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let first = try await shop.order([(pen, 1)], by: user)
            let second = try await shop.order([(pen, 1)], by: user)
            #expect(first.id != second.id)
            #expect(try await shop.stock(pen).available == 8)
        }
    }

    @Test("concurrent requests with one idempotency key create one order and sell the stock once")
    func concurrentIdempotentRequests() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 100)
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await shop.order([(pen, 3)], by: user, key: "double-click").id }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try await shop.orders.listOrders(.init(), options: try await asUser(user)).orders.count == 1)
            let stock = try await shop.stock(pen)
            #expect(stock.available == 97)
            #expect(stock.reserved == 0)
        }
    }

    @Test("an over-long idempotency key is INVALID_ARGUMENT")
    func longIdempotencyKey() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 10)
            let error = await rpcError {
                _ = try await shop.order([(pen, 1)], by: user, key: String(repeating: "k", count: 201))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("idempotency_key:") == true)
        }
    }
}
