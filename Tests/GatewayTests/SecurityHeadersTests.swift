@testable import Gateway
import Testing

/// Every response, success or error, tells a browser to treat it as data.
@Suite("Security headers")
struct SecurityHeadersTests {
    static func expectDataHeaders(_ reply: Reply, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.header("X-Content-Type-Options") == "nosniff", "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.header("Content-Security-Policy") == "default-src 'none'; frame-ancestors 'none'", sourceLocation: sourceLocation)
        #expect(reply.header("Referrer-Policy") == "no-referrer", sourceLocation: sourceLocation)
        #expect(reply.header("Server") == nil, "the gateway names its software: \(reply.header("Server") ?? "")", sourceLocation: sourceLocation)
    }

    @Test func aSuccessfulResponseCarriesThem() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/")
            #expect(reply.status == 200)
            Self.expectDataHeaders(reply)
        }
    }

    @Test func errorResponsesCarryThemToo() async throws {
        try await withDeadGateway { http, _ throws in
            let unknown = try await http.get("/api/nothing-here")
            #expect(unknown.status == 404)
            Self.expectDataHeaders(unknown)
            let unauthenticated = try await http.get("/api/users/")
            #expect(unauthenticated.status == 401)
            Self.expectDataHeaders(unauthenticated)
            let malformed = try await http.post("/api/auth/login", json: "{not json")
            #expect(malformed.status == 400)
            Self.expectDataHeaders(malformed)
            let upstreamDown = try await http.get("/api/products/")
            #expect(upstreamDown.status == 503)
            Self.expectDataHeaders(upstreamDown)
        }
    }

    @Test func plainHTTPSendsNoStrictTransportSecurity() async throws {
        try await withDeadGateway { http, _ throws in
            #expect(try await http.get("/").header("Strict-Transport-Security") == nil)
        }
    }

    @Test func theDocsPageKeepsItsOwnPolicy() async throws {
        try await withDeadGateway { http, _ throws in
            let page = try await http.get("/docs")
            #expect(page.header("X-Content-Type-Options") == "nosniff")
            #expect(page.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        }
    }
}
