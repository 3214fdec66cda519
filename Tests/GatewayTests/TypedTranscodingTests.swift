import Foundation
@testable import Gateway
import Hummingbird
import RESTTranscoding
import Testing

/// What the generated typed transcoding must keep, over real HTTP: the
/// error classes of bad values, money and enum spelling, the shape of list
/// responses, and `HEAD` answered as `GET` without a body.
@Suite("Typed REST transcoding over HTTP")
struct TypedTranscodingTests {
    static let product = #"{"name":"Lamp","description":"Bright","category":"home","price":"#

    @Test("a price with three decimals is 422 and one given as a string is 400, before any upstream is called")
    func moneyPrecision() async throws {
        try await withDeadGateway { http, _ throws in
            let admin = try await Tokens.valid(role: .admin)
            let tooPrecise = try await http.post("/api/products/", token: admin, json: Self.product + "19.999}")
            #expect(tooPrecise.status == 422, "\(tooPrecise)")
            #expect(tooPrecise.body.contains("price: must have at most two decimals"))
            let text = try await http.post("/api/products/", token: admin, json: Self.product + #""19.99"}"#)
            #expect(text.status == 400, "\(text)")
            #expect(text.body.contains("price: must be a number"))
        }
    }

    @Test("a known field given as null is 400; an unknown one is ignored")
    func nullField() async throws {
        try await withDeadGateway { http, _ throws in
            let admin = try await Tokens.valid(role: .admin)
            let null = try await http.post("/api/products/", token: admin, json: #"{"name":null,"price":1,"category":"x"}"#)
            #expect(null.status == 400, "\(null)")
            #expect(null.body.contains("name: must be a value, not null"))
            // Past transcoding: the dead upstreams answer, not the body check.
            let unknown = try await http.post("/api/products/", token: admin, json: #"{"name":"N","price":1,"category":"x","colour":null}"#)
            #expect(unknown.status >= 500, "\(unknown)")
        }
    }

    @Test("an enum takes its lower-case name in any case; an unknown name is 422 listing the allowed ones")
    func enumNames() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let order = UUID().uuidString.lowercased()
            let upper = try await http.put("/api/orders/\(order)/status", token: admin, json: #"{"status":"SHIPPED"}"#)
            #expect(upper.status == 404, "transcoded, then not found: \(upper)")
            let unknown = try await http.put("/api/orders/\(order)/status", token: admin, json: #"{"status":"lost"}"#)
            #expect(unknown.status == 422)
            #expect(unknown.body.contains("status: must be one of pending, confirmed, shipped, delivered, cancelled"))
        }
    }

    @Test("a list is the bare array of its response_body field, the last of a repeated query value wins, and the next page's token is a header")
    func listShape() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            for name in ["A", "B", "C"] { _ = try await http.createProduct(admin: admin, name: name, price: "1.5") }
            let page = try await http.get("/api/products/?page_size=1&page_size=2")
            #expect(page.status == 200)
            #expect(page.body.hasPrefix("[{"), "\(page.body)")
            #expect(page.items.count == 2)
            #expect(page.items.first?["price"] == .number("1.50"))
            #expect(page.header("Next-Page-Token")?.isEmpty == false)
            let all = try await http.get("/api/products/")
            #expect(all.items.count == 3)
            #expect(all.header("Next-Page-Token") == nil)
        }
    }

    @Test("a product reads back with every field in declaration order, money as a decimal and timestamps in RFC 3339")
    func responseFields() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let id = try await http.createProduct(admin: admin, name: "Saw", price: "7")
            let read = try await http.get("/api/products/\(id)")
            #expect(read.json.objectKeys == ["id", "name", "description", "price", "category", "created_at", "updated_at"])
            #expect(read.number("price") == "7.00")
            let created = try #require(read.string("created_at"))
            #expect(created.hasSuffix("Z") && created.count >= 20, "\(created)")
        }
    }

    @Test("HEAD on a GET route answers as GET does, with its Content-Length and no body")
    func headAsGet() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let id = try await http.createProduct(admin: admin)
            let get = try await http.get("/api/products/\(id)")
            let head = try await http.request(.head, "/api/products/\(id)")
            #expect(head.status == 200, "\(head)")
            #expect(head.body.isEmpty)
            #expect(head.header("Content-Type") == "application/json")
            #expect(head.header("Content-Length") == get.header("Content-Length"))
            #expect(head.header("Content-Length") == String(get.bytes.count))
            let missing = try await http.request(.head, "/api/products/\(UUID().uuidString.lowercased())")
            #expect(missing.status == 404)
            #expect(missing.body.isEmpty)
        }
    }

    @Test("HEAD on a path without GET is 405 with Allow and no body; HEAD on /health is answered")
    func headErrors() async throws {
        try await withDeadGateway { http, _ throws in
            let login = try await http.request(.head, "/api/auth/login")
            #expect(login.status == 405)
            #expect(login.header("Allow") == "POST")
            #expect(login.body.isEmpty)
            let health = try await http.request(.head, "/health")
            #expect(health.status == 503)
            #expect(health.body.isEmpty)
            #expect(health.header("Content-Type") == "application/json")
        }
    }
}
