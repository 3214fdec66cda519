import Foundation
@testable import Gateway
import RESTTranscoding
import ShopAPI
import Testing

@Suite("OpenAPI document")
struct OpenAPITests {
    /// `GET /api/users/{id}` pairs of the document.
    static func documentedRoutes() throws -> Set<String> {
        let document = try JSONParser.parse(Array(ShopRoutes.openAPIDocument.utf8))
        guard case .object(let paths)? = document["paths"] else { return [] }
        var routes: Set<String> = []
        for (path, operations) in paths {
            guard case .object(let methods) = operations else { continue }
            for (method, _) in methods { routes.insert("\(method.uppercased()) \(path)") }
        }
        return routes
    }

    @Test("the document lists exactly the routes of the table")
    func sameRoutes() throws {
        let served = Set(ShopRoutes.routes.map { "\($0.verb.name) \($0.path)" })
        #expect(try Self.documentedRoutes() == served)
    }

    @Test("every documented route is served: none answers an unknown-route 404")
    func everyRouteServed() async throws {
        try await withShop { http throws in
            // A real admin: the gateway checks every token against its account.
            let admin = try await http.adminToken()
            for route in try Self.documentedRoutes().sorted() {
                let parts = route.split(separator: " ", maxSplits: 1)
                let path = String(parts[1]).replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                    .replacingOccurrences(of: "{product_id}", with: UUID().uuidString.lowercased())
                guard !path.hasSuffix("/events") else {
                    // An unknown order's stream is a plain 404 from the service, not the router.
                    let reply = try await http.get(path, token: admin)
                    #expect(reply.status == 404 && reply.string("detail") != "no such route")
                    continue
                }
                let reply = try await http.request(.init(String(parts[0]))!, path, token: admin, json: "{}")
                #expect(reply.string("detail") != "no such route", "\(route): \(reply)")
                #expect(reply.status != 500, "\(route): \(reply)")
            }
        }
    }
}
