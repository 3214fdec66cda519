import Foundation
@testable import Gateway
import RESTTranscoding
import Testing

/// The product and inventory routes against the real services.
@Suite("Product and inventory routes")
struct CatalogRouteTests {
    @Test("products are created, read, listed by category, updated and deleted")
    func productLifecycle() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let created = try await http.post("/api/products/", token: admin, json: #"{"name":"Lamp","description":"Bright","price":12.5,"category":"home"}"#)
            #expect(created.status == 201)
            #expect(created.number("price") == "12.50")
            let id = try #require(created.string("id"))
            _ = try await http.createProduct(admin: admin, name: "Saw", category: "tools")

            let read = try await http.get("/api/products/\(id)")
            #expect(read.status == 200)
            #expect(read.string("name") == "Lamp")
            let home = try await http.get("/api/products/?category=home")
            #expect(home.items.map { $0["id"] } == [.string(id)])
            #expect(try await http.get("/api/products").items.count == 2)

            let updated = try await http.put("/api/products/\(id)", token: admin, json: #"{"price":9.99}"#)
            #expect(updated.status == 200)
            #expect(updated.number("price") == "9.99")
            #expect(updated.string("name") == "Lamp")

            let deleted = try await http.delete("/api/products/\(id)", token: admin)
            #expect(deleted.status == 204)
            #expect(try await http.get("/api/products/\(id)").status == 404)
        }
    }

    @Test("a negative price is 422")
    func negativePrice() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let reply = try await http.post("/api/products/", token: admin, json: #"{"name":"Bad","price":-1,"category":"x"}"#)
            #expect(reply.status == 422)
        }
    }

    @Test("stock is set by admins and read by anyone; an unknown product is 404")
    func stock() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let id = try await http.createProduct(admin: admin)
            let set = try await http.put("/api/inventory/\(id)", token: admin, json: #"{"available":12}"#)
            #expect(set.status == 200)
            #expect(set.json.objectKeys.sorted() == ["available", "product_id", "reserved"])
            let read = try await http.get("/api/inventory/\(id)")
            #expect(read.number("available") == "12")
            #expect(read.string("product_id") == id)
            #expect(try await http.get("/api/inventory/\(UUID().uuidString.lowercased())").status == 404)
            let user = try await http.newUser()
            #expect(try await http.put("/api/inventory/\(id)", token: user.token, json: #"{"available":1}"#).status == 403)
        }
    }
}
