import FrameRPC
import ServiceSupport
import ServiceTesting
import ShopAPI
import Testing

@Suite("GetOrder and ListOrders")
struct ReadOrderTests {
    @Test("GetOrder answers the owner with the order and its user embedded")
    func getOwnOrder() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 250, stock: 10)
            let placed = try await shop.order([(pen, 2)], by: user)
            let order = try await shop.orders.getOrder(.with { $0.id = placed.id }, options: try await asUser(user))
            #expect(order.id == placed.id)
            #expect(order.status == .confirmed)
            #expect(order.items == placed.items)
            #expect(order.totalAmount == 500)
            #expect(order.user.id == user)
            #expect(order.user.isActive)
            #expect(order.user.email.hasSuffix("@example.com"))
        }
    }

    @Test("an admin may read anyone's order")
    func adminReadsAnyOrder() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 250, stock: 10)
            let placed = try await shop.order([(pen, 1)], by: user)
            let order = try await shop.orders.getOrder(.with { $0.id = placed.id }, options: try await asAdmin())
            #expect(order.user.id == user)
        }
    }

    @Test("reading someone else's order is PERMISSION_DENIED")
    func getOthersOrder() async throws {
        try await withShop { shop in
            let owner = try await shop.newUser()
            let other = try await shop.newUser()
            let pen = try await shop.newProduct(price: 250, stock: 10)
            let placed = try await shop.order([(pen, 1)], by: owner)
            let error = await rpcError {
                _ = try await shop.orders.getOrder(.with { $0.id = placed.id }, options: try await asUser(other))
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test("an unknown order is NOT_FOUND and a malformed id INVALID_ARGUMENT")
    func getUnknownOrder() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let unknown = await rpcError {
                _ = try await shop.orders.getOrder(.with { $0.id = Validation.newID() }, options: try await asUser(user))
            }
            #expect(unknown?.code == .notFound)
            let malformed = await rpcError {
                _ = try await shop.orders.getOrder(.with { $0.id = "order-1" }, options: try await asUser(user))
            }
            #expect(malformed?.code == .invalidArgument)
            #expect(malformed?.message.hasPrefix("id:") == true)
        }
    }

    @Test("ListOrders shows a user their own orders, newest first, without the embedded user")
    func listOwnOrders() async throws {
        try await withShop { shop in
            let alice = try await shop.newUser()
            let bob = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 50)
            var alices: [String] = []
            for _ in 0..<3 { alices.append(try await shop.order([(pen, 1)], by: alice).id) }
            _ = try await shop.order([(pen, 1)], by: bob)
            let listed = try await shop.orders.listOrders(.init(), options: try await asUser(alice)).orders
            #expect(listed.map(\.id) == alices.reversed())
            #expect(listed.allSatisfy { $0.userID == alice && !$0.hasUser && $0.items.count == 1 })
        }
    }

    @Test("bare identity metadata without a token lists no orders: UNAUTHENTICATED, not an internal caller's full view")
    func roleWithoutUserListsNothing() async throws {
        try await withShop { shop in
            let alice = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 5)
            _ = try await shop.order([(pen, 1)], by: alice)
            let error = await rpcError {
                _ = try await shop.orders.listOrders(.init(), options: CallOptions(metadata: ["x-user-id": alice, "x-user-role": "admin"]))
            }
            #expect(error?.code == .unauthenticated)
        }
    }

    @Test("a user asking for someone else's orders gets PERMISSION_DENIED")
    func listOthersOrders() async throws {
        try await withShop { shop in
            let alice = try await shop.newUser()
            let bob = try await shop.newUser()
            let error = await rpcError {
                _ = try await shop.orders.listOrders(.with { $0.userID = bob }, options: try await asUser(alice))
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test("an admin lists everyone's orders, or one user's with user_id")
    func adminLists() async throws {
        try await withShop { shop in
            let alice = try await shop.newUser()
            let bob = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 50)
            let a = try await shop.order([(pen, 1)], by: alice).id
            let b = try await shop.order([(pen, 1)], by: bob).id
            let all = try await shop.orders.listOrders(.init(), options: try await asAdmin()).orders
            #expect(all.map(\.id) == [b, a])
            let bobs = try await shop.orders.listOrders(.with { $0.userID = bob }, options: try await asAdmin()).orders
            #expect(bobs.map(\.id) == [b])
        }
    }

    @Test("skip and limit page through orders")
    func pagination() async throws {
        try await withShop { shop in
            let user = try await shop.newUser()
            let pen = try await shop.newProduct(price: 100, stock: 50)
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try await shop.order([(pen, 1)], by: user).id) }
            let newestFirst = Array(ids.reversed())
            func page(_ skip: Int32, _ limit: Int32) async throws -> [String] {
                try await shop.orders.listOrders(.with { $0.skip = skip; $0.limit = limit }, options: try await asUser(user)).orders.map(\.id)
            }
            #expect(try await page(0, 2) == Array(newestFirst[0..<2]))
            #expect(try await page(2, 2) == Array(newestFirst[2..<4]))
            #expect(try await page(4, 2) == Array(newestFirst[4...]))
            #expect(try await page(5, 2).isEmpty)
            #expect(try await page(0, 0).count == 5)
        }
    }

    @Test("out-of-range paging is INVALID_ARGUMENT naming the field", arguments: [
        ("skip", Int32(-1), Int32(0)),
        ("limit", Int32(0), Int32(-1)),
        ("limit", Int32(0), Int32(1001)),
    ])
    func pagingOutOfRange(field: String, skip: Int32, limit: Int32) async throws {
        try await withShop { shop in
            let error = await rpcError {
                _ = try await shop.orders.listOrders(.with { $0.skip = skip; $0.limit = limit }, options: try await asUser(Validation.newID()))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("\(field):") == true)
        }
    }
}
