import Foundation
@testable import Gateway
import RESTTranscoding
import Testing

/// Cursor pagination over REST: `page_size` and `page_token` in the query,
/// the next token in the `Next-Page-Token` header beside the bare array.
@Suite("Cursor pagination over REST")
struct PaginationRouteTests {
    /// Follows `Next-Page-Token` from `firstPath` until it is absent, calling
    /// `between` after each page; the ids of every page, in order.
    private static func walk(
        _ http: HTTP,
        _ firstPath: String,
        token: String? = nil,
        between: (Int) async throws -> Void = { _ in }
    ) async throws -> [String] {
        var ids: [String] = []
        var path = firstPath
        for page in 0..<100 {
            let reply = try await http.get(path, token: token)
            guard reply.status == 200 else { throw HarnessFailure("page \(page): \(reply)") }
            ids += reply.items.compactMap { $0["id"]?.stringValue }
            guard let next = reply.header("Next-Page-Token") else { return ids }
            try await between(page)
            let separator = firstPath.contains("?") ? "&" : "?"
            path = firstPath + separator + "page_token=" + next
        }
        throw HarnessFailure("more than 100 pages")
    }

    @Test("walking the product pages returns each product once, in order, while products are added")
    func productsWalk() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            var created: [String] = []
            for index in 0..<17 { created.append(try await http.createProduct(admin: admin, name: "P\(index)")) }
            let seen = try await Self.walk(http, "/api/products/?page_size=5") { page in
                // Added behind the cursor's position: the walk reaches them.
                if page < 2 { created.append(try await http.createProduct(admin: admin, name: "Late\(page)")) }
            }
            #expect(seen == created)
        }
    }

    @Test("the last page has no Next-Page-Token, and skip/limit still page as before")
    func lastPageAndCompatibility() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            var created: [String] = []
            for index in 0..<4 { created.append(try await http.createProduct(admin: admin, name: "P\(index)")) }
            let all = try await http.get("/api/products/?page_size=4")
            #expect(all.items.count == 4)
            #expect(all.header("Next-Page-Token") == nil)
            let old = try await http.get("/api/products/?skip=1&limit=2")
            #expect(old.items.compactMap { $0["id"]?.stringValue } == Array(created[1...2]))
        }
    }

    @Test("a tampered page token, garbage, or a token used with another category is refused (422, INVALID_ARGUMENT)")
    func badTokens() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            for index in 0..<3 { _ = try await http.createProduct(admin: admin, name: "P\(index)", category: "tools") }
            let first = try await http.get("/api/products/?page_size=1&category=tools")
            let token = try #require(first.header("Next-Page-Token"))
            #expect(try await http.get("/api/products/?page_size=1&category=tools&page_token=\(token)").status == 200)

            var tampered = Array(token)
            tampered[3] = tampered[3] == "A" ? "B" : "A"
            let changed = try await http.get("/api/products/?page_size=1&category=tools&page_token=\(String(tampered))")
            #expect(changed.status == 422)
            #expect(changed.code == "INVALID_ARGUMENT")
            #expect(changed.string("detail")?.contains("page_token") == true)

            #expect(try await http.get("/api/products/?page_token=not-a-token").status == 422)
            let elsewhere = try await http.get("/api/products/?page_size=1&category=garden&page_token=\(token)")
            #expect(elsewhere.status == 422)
            #expect(try await http.get("/api/products/?page_size=1&skip=1&category=tools&page_token=\(token)").status == 422)
        }
    }

    @Test("walking a user's order pages (newest first) returns each order once while new orders are placed")
    func ordersWalk() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let product = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: product, available: 100)
            let user = try await http.newUser()
            var placed: [String] = []
            for _ in 0..<7 {
                let reply = try await http.order(token: user.token, productID: product, quantity: 1)
                placed.append(try #require(reply.string("id"), "\(reply)"))
            }
            let seen = try await Self.walk(http, "/api/orders/?page_size=3", token: user.token) { _ in
                // Newer than the cursor: not part of this walk, never a duplicate.
                _ = try await http.order(token: user.token, productID: product, quantity: 1)
            }
            #expect(seen == Array(placed.reversed()))
        }
    }

    @Test("an admin walks the user pages, oldest first")
    func usersWalk() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            for _ in 0..<5 { _ = try await http.register() }
            let everyone = try await http.get("/api/users/?limit=1000", token: admin)
            let expected = everyone.items.compactMap { $0["id"]?.stringValue }
            let seen = try await Self.walk(http, "/api/users/?page_size=2", token: admin)
            #expect(seen == expected)
            #expect(seen.count >= 6)
        }
    }
}
