import Foundation
@testable import Gateway
import Hummingbird
import RESTTranscoding
import ShopAPI
import Testing

/// Auth over HTTP against a gateway whose services are all down: a request
/// that got past auth would meet the dead upstream (503), so a 401 or 403
/// shows the decision was made before any RPC.
@Suite("Route auth over HTTP")
struct AuthOverHTTPTests {
    /// A route's path with every variable filled with `value`.
    static func concretePath(_ route: RESTRoute, _ value: String = UUID().uuidString.lowercased()) -> String {
        var path = route.path
        for variable in route.pathVariables { path = path.replacingOccurrences(of: "{\(variable)}", with: value) }
        return path
    }

    static func method(_ route: RESTRoute) -> HTTPRequest.Method {
        HTTPRequest.Method(route.verb.name)!
    }

    static var protectedRoutes: [RESTRoute] { ShopRoutes.routes.filter { $0.auth != .public } }
    static var adminRoutes: [RESTRoute] { ShopRoutes.routes.filter { $0.auth == .admin } }

    @Test("every protected route answers 401 UNAUTHENTICATED without a token")
    func missingToken() async throws {
        try await withDeadGateway { http, _ throws in
            for route in Self.protectedRoutes {
                let reply = try await http.request(Self.method(route), Self.concretePath(route), json: route.body == .none ? nil : "{}")
                #expect(reply.status == 401, "\(route.verb.name) \(route.path): \(reply)")
                #expect(reply.code == "UNAUTHENTICATED")
                #expect(reply.header("WWW-Authenticate") == "Bearer")
            }
        }
    }

    @Test("bad tokens are 401 on every protected route: expired, wrong signature, alg none, garbage")
    func badTokens() async throws {
        let tokens = [try await Tokens.expired(), try await Tokens.wrongSignature(), Tokens.algNone(), "not.a.token"]
        try await withDeadGateway { http, _ throws in
            for route in Self.protectedRoutes {
                for token in tokens {
                    let reply = try await http.request(Self.method(route), Self.concretePath(route), token: token, json: route.body == .none ? nil : "{}")
                    #expect(reply.status == 401, "\(route.verb.name) \(route.path): \(reply)")
                }
            }
        }
    }

    @Test("admin routes answer 403 PERMISSION_DENIED to a user")
    func adminOnly() async throws {
        let user = try await Tokens.valid(role: .user)
        try await withDeadGateway { http, _ throws in
            for route in Self.adminRoutes {
                let reply = try await http.request(Self.method(route), Self.concretePath(route), token: user, json: route.body == .none ? nil : "{}")
                #expect(reply.status == 403, "\(route.verb.name) \(route.path): \(reply)")
                #expect(reply.code == "PERMISSION_DENIED")
            }
        }
    }

    @Test("an admin passes auth on admin routes (and meets the dead service: 503)")
    func adminPasses() async throws {
        let admin = try await Tokens.valid(role: .admin)
        try await withDeadGateway { http, _ throws in
            let reply = try await http.delete("/api/products/\(UUID().uuidString.lowercased())", token: admin)
            #expect(reply.status == 503)
            #expect(reply.code == "UNAVAILABLE")
        }
    }

    @Test("a user may not read or change another user's record: 403")
    func ownerMismatch() async throws {
        let user = try await Tokens.valid("11111111-1111-1111-1111-111111111111")
        try await withDeadGateway { http, _ throws in
            let other = "22222222-2222-2222-2222-222222222222"
            #expect(try await http.get("/api/users/\(other)", token: user).status == 403)
            #expect(try await http.put("/api/users/\(other)", token: user, json: #"{"full_name":"x"}"#).status == 403)
        }
    }

    @Test("a user reaching their own record passes auth")
    func ownerPasses() async throws {
        let id = "11111111-1111-1111-1111-111111111111"
        let user = try await Tokens.valid(id)
        try await withDeadGateway { http, _ throws in
            #expect(try await http.get("/api/users/\(id)", token: user).status == 503)
        }
    }

    @Test("public routes need no token")
    func publicRoutes() async throws {
        try await withDeadGateway { http, _ throws in
            #expect(try await http.get("/api/products/").status == 503)
            #expect(try await http.get("/api/inventory/\(UUID().uuidString)").status == 503)
        }
    }
}
