import Foundation
@testable import Gateway
import RESTTranscoding
import ServiceTesting
import Testing

/// The shop end to end: the real five services behind the gateway, driven
/// only through the REST API.
@Suite("Shop journeys through the gateway")
struct JourneyTests {
    @Test("register, log in, create a product, stock it, order it, read the order and the notification")
    func journey() async throws {
        try await withShop { http throws in
            let registered = try await http.post("/api/users/", json: #"{"email":"journey@example.com","full_name":"Grace Hopper","password":"\#(Shop.password)"}"#)
            #expect(registered.status == 201)
            let userID = try #require(registered.string("id"))
            #expect(registered.string("role") == "user")
            #expect(registered.json["is_active"] == .bool(true))

            let login = try await http.post("/api/auth/login", json: #"{"email":"journey@example.com","password":"\#(Shop.password)"}"#)
            #expect(login.status == 200)
            #expect(login.string("token_type") == "bearer")
            let token = try #require(login.string("access_token"))

            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin, name: "Compiler", price: "19.99")
            try await http.setStock(admin: admin, productID: productID, available: 10)

            let order = try await http.order(token: token, productID: productID, quantity: 3)
            #expect(order.status == 201)
            #expect(order.string("status") == "confirmed")
            #expect(order.number("total_amount") == "59.97")
            #expect(order.string("user_id") == userID)
            let orderID = try #require(order.string("id"))

            let read = try await http.get("/api/orders/\(orderID)", token: token)
            #expect(read.status == 200)
            #expect(read.json["user"]?["email"] == .string("journey@example.com"))
            #expect(read.json["items"] == .array([.object([("product_id", .string(productID)), ("quantity", .number("3")), ("unit_price", .number("19.99"))])]))

            let stock = try await http.get("/api/inventory/\(productID)")
            #expect(stock.number("available") == "7")

            let notified = try await eventually {
                let list = try await http.get("/api/notifications/", token: token)
                return list.status == 200 && list.items.contains { $0["user_id"] == .string(userID) }
            }
            #expect(notified)
        }
    }

    @Test("an Idempotency-Key makes a repeated order return the first one and reserve nothing twice")
    func idempotentOrder() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 5)
            let user = try await http.newUser()
            let key = ["Idempotency-Key": "order-\(UUID().uuidString)"]
            let first = try await http.order(token: user.token, productID: productID, quantity: 2, headers: key)
            let second = try await http.order(token: user.token, productID: productID, quantity: 2, headers: key)
            #expect(first.status == 201)
            #expect([200, 201].contains(second.status))
            #expect(first.string("id") == second.string("id"))
            #expect(try await http.get("/api/inventory/\(productID)").number("available") == "3")
            #expect(try await http.get("/api/orders/", token: user.token).items.count == 1)
        }
    }

    @Test("not enough stock is 409 and reserves nothing")
    func notEnoughStock() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 2)
            let user = try await http.newUser()
            let reply = try await http.order(token: user.token, productID: productID, quantity: 3)
            #expect(reply.status == 409)
            let stock = try await http.get("/api/inventory/\(productID)")
            #expect(stock.number("available") == "2")
            #expect(stock.number("reserved") == "0")
        }
    }

    @Test("cancelling an order puts its stock back")
    func cancel() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 4)
            let user = try await http.newUser()
            let orderID = try #require(try await http.order(token: user.token, productID: productID, quantity: 4).string("id"))
            let cancelled = try await http.request(.post, "/api/orders/\(orderID)/cancel", token: user.token)
            #expect(cancelled.status == 200)
            #expect(cancelled.string("status") == "cancelled")
            #expect(try await eventually { try await http.get("/api/inventory/\(productID)").number("available") == "4" })
        }
    }

    @Test("an admin moves an order along; a move the status machine forbids is 409")
    func statusMoves() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 4)
            let user = try await http.newUser()
            let orderID = try #require(try await http.order(token: user.token, productID: productID, quantity: 1).string("id"))
            let shipped = try await http.put("/api/orders/\(orderID)/status", token: admin, json: #"{"status":"shipped"}"#)
            #expect(shipped.status == 200)
            #expect(shipped.string("status") == "shipped")
            let back = try await http.put("/api/orders/\(orderID)/status", token: admin, json: #"{"status":"confirmed"}"#)
            #expect(back.status == 409)
            #expect(try await http.put("/api/orders/\(orderID)/status", token: user.token, json: #"{"status":"delivered"}"#).status == 403)
        }
    }
}
