import Foundation
import Testing

/// The `Idempotency-Key` rule over real HTTP, through the gateway to the
/// real services: the same key with the same body replays the first order;
/// the same key with another body is 422 and places nothing.
@Suite("Idempotency-Key over HTTP")
struct IdempotencyKeyTests {
    @Test("a reused Idempotency-Key with a different body is 422 and places and reserves nothing")
    func differentBodyRefused() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 5)
            let user = try await http.newUser()
            let key = ["Idempotency-Key": "order-\(UUID().uuidString)"]
            let first = try await http.order(token: user.token, productID: productID, quantity: 1, headers: key)
            let other = try await http.order(token: user.token, productID: productID, quantity: 3, headers: key)
            #expect(first.status == 201)
            #expect(other.status == 422)
            #expect(other.string("detail")?.contains("idempotency_key") == true)
            #expect(other.string("id") == nil, "the first order must not be returned for another body")
            let stock = try await http.get("/api/inventory/\(productID)")
            #expect(stock.number("available") == "4")
            #expect(stock.number("reserved") == nil || stock.number("reserved") == "0")
            #expect(try await http.get("/api/orders/", token: user.token).items.count == 1)
        }
    }

    @Test("concurrent requests with one Idempotency-Key and one body all get the first order")
    func concurrentSameBody() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 5)
            let user = try await http.newUser()
            let key = ["Idempotency-Key": "order-\(UUID().uuidString)"]
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await http.order(token: user.token, productID: productID, quantity: 2, headers: key) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { [200, 201].contains($0.status) }, "\(replies.map(\.status))")
            #expect(Set(replies.compactMap { $0.string("id") }).count == 1)
            #expect(try await http.get("/api/inventory/\(productID)").number("available") == "3")
            #expect(try await http.get("/api/orders/", token: user.token).items.count == 1)
        }
    }

    @Test("a cancelled order says why over HTTP: who asked for it")
    func cancellationExplained() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 2)
            let user = try await http.newUser()
            let orderID = try #require(try await http.order(token: user.token, productID: productID, quantity: 1).string("id"))
            let cancelled = try await http.request(.post, "/api/orders/\(orderID)/cancel", token: user.token)
            #expect(cancelled.string("status") == "cancelled")
            #expect(cancelled.string("cancellation_reason") == "requested")
            #expect(cancelled.string("status_detail") == "cancelled by the customer")
        }
    }
}
