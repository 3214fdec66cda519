import FrameRPC
@testable import Gateway
import Hummingbird
import RESTTranscoding
import ShopAPI
import Testing

@Suite("The gateway's own routes")
struct SystemRouteTests {
    @Test("GET / says the gateway is running")
    func root() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/")
            #expect(reply.status == 200)
            #expect(reply.string("message") == "API Gateway is running")
            #expect(reply.header("Content-Type") == "application/json")
        }
    }

    @Test("GET /openapi.json serves the generated document")
    func openAPI() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/openapi.json")
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "application/json")
            #expect(reply.body == ShopRoutes.openAPIDocument)
            #expect(reply.json["paths"] != nil)
        }
    }

    @Test("an unknown route is a JSON 404 carrying the request id")
    func unknownRoute() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/api/nothing-here", headers: ["X-Request-ID": "trace-404"])
            #expect(reply.status == 404)
            #expect(reply.code == "NOT_FOUND")
            #expect(reply.string("request_id") == "trace-404")
            #expect(reply.string("detail") != nil)
        }
    }

    @Test("a known path with a method it does not serve is a JSON 405 with Allow")
    func unknownMethod() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.request(.patch, "/api/products/")
            #expect(reply.status == 405)
            #expect(reply.code == "UNIMPLEMENTED")
            #expect(reply.header("Allow") == "GET, HEAD, POST")
            let health = try await http.request(.delete, "/health")
            #expect(health.status == 405)
            #expect(health.header("Allow") == "GET, HEAD")
        }
    }

    @Test("/health is 503 degraded and names why when the services are down")
    func healthDegraded() async throws {
        try await withDeadGateway { http, _ throws in
            let reply = try await http.get("/health", token: try await Tokens.valid(role: .admin))
            #expect(reply.status == 503)
            #expect(reply.string("status") == "degraded")
            for name in GatewayHarness.serviceNames {
                #expect(reply.json["services"]?[name] == .string("unhealthy: unavailable"))
                #expect(reply.json["circuits"]?[name] == .string("closed"))
            }
        }
    }

    @Test("/health is 200 healthy when every service answers")
    func healthy() async throws {
        try await withShop { http throws in
            let reply = try await http.get("/health", token: try await Tokens.valid(role: .admin))
            #expect(reply.status == 200)
            #expect(reply.string("status") == "healthy")
            for name in GatewayHarness.serviceNames {
                #expect(reply.json["services"]?[name] == .string("healthy"))
            }
        }
    }

    @Test("/health without an admin token is the bare status: no services, circuits or endpoint addresses")
    func healthPublicIsBare() async throws {
        try await withShop { http throws in
            for token in [nil, try await Tokens.valid(role: .user), try await Tokens.wrongSignature()] {
                let reply = try await http.get("/health", token: token)
                #expect(reply.status == 200)
                #expect(reply.string("status") == "healthy")
                #expect(reply.json["services"] == nil && reply.json["endpoints"] == nil && reply.json["circuits"] == nil, "\(reply.body)")
                #expect(!reply.body.contains("127.0.0.1"), "\(reply.body)")
            }
        }
    }

    @Test("/health is degraded (503) while a service's circuit is open, even when the service answers its health RPC")
    func healthDegradedWhileCircuitOpen() async throws {
        let breaker = CircuitBreaker.Policy(windowSize: 2, minimumCalls: 2, failureRateThreshold: 1, openDuration: .seconds(60), halfOpenProbes: 1)
        try await withShopServices { services in
          try await withGateway(GatewayHarness.configuration(upstreams: services) { $0.circuitBreaker = breaker }) { http, upstreams throws in
            // Two failed calls, recorded as the route's calls record them, open the product circuit.
            let product = try #require(upstreams.upstream(forService: "shop.product.v1.ProductService"))
            for _ in 0..<2 {
                let admission = try await product.admit()
                product.finish(admission, error: RPCError(code: .unavailable, message: "sick"), policy: .init(idempotent: true, deadlinesAreUpstreamFailures: true))
            }
            #expect(product.circuitState.name == "open")
            let bare = try await http.get("/health")
            #expect(bare.status == 503)
            #expect(bare.string("status") == "degraded")
            let detail = try await http.get("/health", token: try await Tokens.valid(role: .admin))
            #expect(detail.json["services"]?["product"] == .string("healthy"))
            #expect(detail.json["circuits"]?["product"] == .string("open"))
          }
        }
    }

    @Test("/health reports a service that does not answer in time as unhealthy")
    func healthTimeout() async throws {
        let blackhole = try Blackhole()
        var upstreams = try GatewayHarness.deadUpstreams()
        upstreams["product"] = .init(host: "127.0.0.1", port: blackhole.port)
        let configuration = GatewayHarness.configuration(upstreams: upstreams) { $0.healthCheckTimeout = .milliseconds(200) }
        try await withGateway(configuration) { http, _ throws in
            let reply = try await http.get("/health", token: try await Tokens.valid(role: .admin))
            #expect(reply.status == 503)
            #expect(reply.json["services"]?["product"]?.stringValue?.hasPrefix("unhealthy: no answer within") == true)
        }
        withExtendedLifetime(blackhole) {}
    }
}
