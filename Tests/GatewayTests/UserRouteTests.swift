import Foundation
@testable import Gateway
import RESTTranscoding
import Testing

/// The user routes of API.md against the real user service.
@Suite("User routes")
struct UserRouteTests {
    @Test("POST /api/users/ creates a user (201) and answers the API's User fields")
    func create() async throws {
        try await withShop { http throws in
            let reply = try await http.post("/api/users/", json: #"{"email":"new@example.com","full_name":"Ada","password":"\#(Shop.password)"}"#)
            #expect(reply.status == 201)
            #expect(reply.header("Content-Type") == "application/json")
            let keys = Set((reply.json.objectKeys))
            #expect(keys == ["id", "email", "full_name", "is_active", "role", "created_at"])
            #expect(reply.json["password"] == nil)
        }
    }

    @Test("POST /api/users without the trailing slash is the same route")
    func withoutSlash() async throws {
        try await withShop { http throws in
            let reply = try await http.post("/api/users", json: #"{"email":"slash@example.com","full_name":"Ada","password":"\#(Shop.password)"}"#)
            #expect(reply.status == 201)
        }
    }

    @Test("a duplicate email is 409, a short password or bad email 422")
    func createErrors() async throws {
        try await withShop { http throws in
            _ = try await http.register(email: "dup@example.com")
            let duplicate = try await http.post("/api/users/", json: #"{"email":"dup@example.com","full_name":"B","password":"\#(Shop.password)"}"#)
            #expect(duplicate.status == 409)
            #expect(duplicate.code == "ALREADY_EXISTS")
            let short = try await http.post("/api/users/", json: #"{"email":"short@example.com","full_name":"B","password":"123"}"#)
            #expect(short.status == 422)
            #expect(short.string("detail")?.contains("password") == true)
            #expect(try await http.post("/api/users/", json: #"{"email":"nope","full_name":"B","password":"\#(Shop.password)"}"#).status == 422)
        }
    }

    @Test("a wrong password and an unknown email are both 401 with the same message")
    func loginFailures() async throws {
        try await withShop { http throws in
            let user = try await http.register()
            let wrong = try await http.post("/api/auth/login", json: #"{"email":"\#(user.email)","password":"wrong-password"}"#)
            let unknown = try await http.post("/api/auth/login", json: #"{"email":"ghost@example.com","password":"wrong-password"}"#)
            #expect(wrong.status == 401)
            #expect(unknown.status == 401)
            #expect(wrong.string("detail") == unknown.string("detail"))
        }
    }

    @Test("a login token works for GET /api/users/me and GET /api/users/{own id}")
    func me() async throws {
        try await withShop { http throws in
            let user = try await http.newUser()
            let me = try await http.get("/api/users/me", token: user.token)
            #expect(me.status == 200)
            #expect(me.string("id") == user.id)
            #expect(try await http.get("/api/users/\(user.id)", token: user.token).status == 200)
            #expect(try await http.get("/api/users/me").status == 401)
        }
    }

    @Test("another user's record is 403 for a user and readable for an admin; an unknown id is 404")
    func otherUsers() async throws {
        try await withShop { http throws in
            let alice = try await http.newUser()
            let bob = try await http.newUser()
            #expect(try await http.get("/api/users/\(bob.id)", token: alice.token).status == 403)
            let admin = try await http.adminToken()
            #expect(try await http.get("/api/users/\(bob.id)", token: admin).status == 200)
            #expect(try await http.get("/api/users/\(UUID().uuidString.lowercased())", token: admin).status == 404)
        }
    }

    @Test("GET /api/users/ lists users for admins, pages with skip and limit, and is 403 for users")
    func list() async throws {
        try await withShop { http throws in
            let user = try await http.newUser()
            _ = try await http.register()
            let admin = try await http.adminToken()
            let all = try await http.get("/api/users/", token: admin)
            #expect(all.status == 200)
            #expect(all.items.count == 3)
            #expect(try await http.get("/api/users?skip=1&limit=1", token: admin).items.count == 1)
            #expect(try await http.get("/api/users/", token: user.token).status == 403)
        }
    }

    @Test("PUT /api/users/{id} updates what the owner sends; role changes are for admins only")
    func update() async throws {
        try await withShop { http throws in
            let user = try await http.newUser()
            let renamed = try await http.put("/api/users/\(user.id)", token: user.token, json: #"{"full_name":"Renamed"}"#)
            #expect(renamed.status == 200)
            #expect(renamed.string("full_name") == "Renamed")
            let promote = try await http.put("/api/users/\(user.id)", token: user.token, json: #"{"role":"admin"}"#)
            #expect(promote.status == 403)
        }
    }

    @Test("DELETE /api/users/{id} deactivates the user: 204 with no body")
    func deactivate() async throws {
        try await withShop { http throws in
            let user = try await http.newUser()
            let admin = try await http.adminToken()
            let reply = try await http.delete("/api/users/\(user.id)", token: admin)
            #expect(reply.status == 204)
            #expect(reply.body.isEmpty)
            let read = try await http.get("/api/users/\(user.id)", token: admin)
            #expect(read.json["is_active"] == .bool(false))
        }
    }
}

extension JSONValue {
    var objectKeys: [String] {
        if case .object(let members) = self { return members.map(\.key) }
        return []
    }
}
