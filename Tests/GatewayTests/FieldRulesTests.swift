import Foundation
@testable import Gateway
import Hummingbird
import RESTTranscoding
import Testing

/// The `(shop.api.rules)` of proto/ enforced at the gateway before it
/// calls, over real HTTP against the real services: 422 with every failing
/// field in `errors`, beside `detail`, `code` and `request_id`. One test per
/// rule kind.
@Suite("Field rules at the gateway")
struct FieldRulesTests {
    /// The `errors` of a 422 body as (field, rule) pairs.
    private func violations(_ reply: Reply) -> [String] {
        guard case .array(let items)? = reply.json["errors"] else { return [] }
        return items.compactMap { item in
            guard case .string(let field)? = item["field"], case .string(let rule)? = item["rule"] else { return nil }
            return "\(field) \(rule)"
        }
    }

    @Test("required: a missing name is 422 naming the field and the rule")
    func required() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let reply = try await http.post("/api/products/", token: admin, json: #"{"price":1.5}"#)
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["name required"], "\(reply)")
            #expect(reply.code == "INVALID_ARGUMENT")
            #expect(reply.string("request_id") != nil)
            #expect(reply.string("detail")?.contains("name") == true)
        }
    }

    @Test("every failing field is listed, not just the first")
    func everyFailingField() async throws {
        try await withShop { http throws in
            let reply = try await http.post("/api/users/", json: #"{"email":"not-an-email","full_name":"   ","password":"short"}"#)
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["email format", "full_name pattern", "password min_length"], "\(reply)")
        }
    }

    @Test("max_length counts characters: 201 of them is too long, 200 is not")
    func maxLength() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let long = String(repeating: "é", count: 201)
            let refused = try await http.post("/api/products/", token: admin, json: #"{"name":"\#(long)","price":1}"#)
            #expect(refused.status == 422, "\(refused)")
            #expect(violations(refused) == ["name max_length"])
            let fits = String(repeating: "é", count: 200)
            #expect(try await http.post("/api/products/", token: admin, json: #"{"name":"\#(fits)","price":1}"#).status == 201)
        }
    }

    @Test("max_bytes: a password over 4,096 bytes of UTF-8 is refused for its bytes, before its characters are counted")
    func maxBytes() async throws {
        try await withShop { http throws in
            // 1,025 four-byte scalars: over the password's 4,096 bytes.
            let heavy = String(repeating: "\u{1F600}", count: 1_025)
            let reply = try await http.post("/api/auth/login", json: #"{"email":"a@example.com","password":"\#(heavy)"}"#)
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["password max_bytes"], "\(reply)")
        }
    }

    @Test("format uuid: a path id that is not a UUID is 422")
    func formatUUID() async throws {
        try await withShop { http throws in
            let reply = try await http.get("/api/products/not-a-uuid")
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["id format"])
        }
    }

    @Test("minimum: an order item's quantity below 1 is 422 at items[0].quantity")
    func minimum() async throws {
        try await withShop { http throws in
            let user = try await http.newUser()
            let product = UUID().uuidString.lowercased()
            let reply = try await http.post("/api/orders/", token: user.token, json: #"{"items":[{"product_id":"\#(product)","quantity":0}]}"#)
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["items[0].quantity required"], "\(reply)")
            let negative = try await http.post("/api/orders/", token: user.token, json: #"{"items":[{"product_id":"\#(product)","quantity":-3}]}"#)
            #expect(violations(negative) == ["items[0].quantity minimum"], "\(negative)")
        }
    }

    @Test("maximum: a limit over 1000 is 422")
    func maximum() async throws {
        try await withShop { http throws in
            let reply = try await http.get("/api/products/?limit=1001")
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["limit maximum"])
        }
    }

    @Test("max_items: an order of 101 items is 422")
    func maxItems() async throws {
        try await withShop { http throws in
            let user = try await http.newUser()
            let item = #"{"product_id":"\#(UUID().uuidString.lowercased())","quantity":1}"#
            let items = Array(repeating: item, count: 101).joined(separator: ",")
            let reply = try await http.post("/api/orders/", token: user.token, json: #"{"items":[\#(items)]}"#)
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["items max_items"])
        }
    }

    @Test("pattern: a user_id filter that is neither empty nor a UUID is 422")
    func pattern() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let reply = try await http.get("/api/orders/?user_id=bob", token: admin)
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["user_id pattern"])
        }
    }

    @Test("defined_only and required: an order status left out is 422")
    func definedOnly() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let reply = try await http.put("/api/orders/\(UUID().uuidString.lowercased())/status", token: admin, json: #"{}"#)
            #expect(reply.status == 422, "\(reply)")
            #expect(violations(reply) == ["status required"])
        }
    }

    @Test("a route that takes a body refuses a request without one (400)")
    func missingBody() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let reply = try await http.request(.put, "/api/inventory/\(UUID().uuidString.lowercased())", token: admin)
            #expect(reply.status == 400, "\(reply)")
            #expect(reply.string("detail") == "the request needs a JSON body")
        }
    }

    @Test("a method a path does not take is 405 with Allow, TRACE included")
    func methodNotAllowed() async throws {
        try await withShop { http throws in
            let trace = try await http.request(HTTPRequest.Method("TRACE")!, "/api/users/")
            #expect(trace.status == 405, "\(trace)")
            #expect(trace.header("Allow") == "GET, HEAD, POST")
            #expect(trace.code == "UNIMPLEMENTED")
            let patch = try await http.request(.patch, "/api/products/\(UUID().uuidString.lowercased())")
            #expect(patch.status == 405)
            #expect(patch.header("Allow") == "GET, HEAD, PUT, DELETE")
            #expect(try await http.get("/api/nothing-here").status == 404)
        }
    }

    @Test("an order listed without its user has no user member, rather than null")
    func absentMessageFieldIsLeftOut() async throws {
        try await withShop { http throws in
            let admin = try await http.adminToken()
            let product = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: product, available: 5)
            let user = try await http.newUser()
            let placed = try await http.order(token: user.token, productID: product, quantity: 1)
            #expect(placed.status == 201, "\(placed)")
            let listed = try await http.get("/api/orders/", token: user.token)
            let order = try #require(listed.items.first)
            #expect(order["user"] == nil, "\(listed)")
            #expect(order["id"] != nil)
        }
    }
}
