import Foundation
@testable import Gateway
import RESTTranscoding
import ServiceTesting
import Testing

/// The order and notification routes against the real services.
@Suite("Order and notification routes")
struct OrderRouteTests {
    /// An admin token and a stocked product.
    func stockedProduct(_ http: HTTP, available: Int = 50) async throws -> (admin: String, productID: String) {
        let admin = try await http.adminToken()
        let productID = try await http.createProduct(admin: admin)
        try await http.setStock(admin: admin, productID: productID, available: available)
        return (admin, productID)
    }

    @Test("users list their own orders; admins list all or one user's")
    func listOrders() async throws {
        try await withShop { http throws in
            let (admin, productID) = try await stockedProduct(http)
            let alice = try await http.newUser()
            let bob = try await http.newUser()
            _ = try await http.order(token: alice.token, productID: productID, quantity: 1)
            _ = try await http.order(token: bob.token, productID: productID, quantity: 1)
            let mine = try await http.get("/api/orders/", token: alice.token)
            #expect(mine.status == 200)
            #expect(mine.items.map { $0["user_id"] } == [.string(alice.id)])
            #expect(try await http.get("/api/orders", token: admin).items.count == 2)
            #expect(try await http.get("/api/orders/?user_id=\(bob.id)", token: admin).items.map { $0["user_id"] } == [.string(bob.id)])
        }
    }

    @Test("someone else's order is 403 and an unknown one 404")
    func foreignOrder() async throws {
        try await withShop { http throws in
            let (_, productID) = try await stockedProduct(http)
            let alice = try await http.newUser()
            let bob = try await http.newUser()
            let orderID = try #require(try await http.order(token: alice.token, productID: productID, quantity: 1).string("id"))
            #expect(try await http.get("/api/orders/\(orderID)", token: bob.token).status == 403)
            #expect(try await http.request(.post, "/api/orders/\(orderID)/cancel", token: bob.token).status == 403)
            #expect(try await http.get("/api/orders/\(UUID().uuidString.lowercased())", token: alice.token).status == 404)
        }
    }

    @Test("an order for an unknown product is 404; a quantity of 0 is 422")
    func badOrders() async throws {
        try await withShop { http throws in
            let (_, productID) = try await stockedProduct(http)
            let user = try await http.newUser()
            #expect(try await http.order(token: user.token, productID: UUID().uuidString.lowercased(), quantity: 1).status == 404)
            let zero = try await http.order(token: user.token, productID: productID, quantity: 0)
            #expect(zero.status == 422)
            #expect(zero.string("detail")?.contains("quantity") == true)
        }
    }

    @Test("an admin may order for another user; a user may not")
    func orderForSomeoneElse() async throws {
        try await withShop { http throws in
            let (admin, productID) = try await stockedProduct(http)
            let alice = try await http.newUser()
            let bob = try await http.newUser()
            let body = #"{"user_id":"\#(bob.id)","items":[{"product_id":"\#(productID)","quantity":1}]}"#
            let byAdmin = try await http.post("/api/orders/", token: admin, json: body)
            #expect(byAdmin.status == 201)
            #expect(byAdmin.string("user_id") == bob.id)
            #expect(try await http.post("/api/orders/", token: alice.token, json: body).status == 403)
        }
    }

    @Test("GET /api/notifications/ shows a user their own notifications only")
    func notifications() async throws {
        try await withShop { http throws in
            let (admin, productID) = try await stockedProduct(http)
            let alice = try await http.newUser()
            let bob = try await http.newUser()
            _ = try await http.order(token: alice.token, productID: productID, quantity: 1)
            #expect(try await eventually { try await http.get("/api/notifications/", token: alice.token).items.count == 1 })
            #expect(try await http.get("/api/notifications", token: bob.token).items.isEmpty)
            let forAlice = try await http.get("/api/notifications/?user_id=\(alice.id)", token: admin)
            #expect(forAlice.items.count == 1)
            // `deliveries`: per-channel delivery state (none here: no email or webhook set up).
            #expect(forAlice.items.first.map { $0.objectKeys.sorted() } == ["body", "created_at", "deliveries", "event_id", "id", "kind", "subject", "user_id"])
        }
    }
}
