import FrameRPC
@testable import Gateway
import ServiceSupport
import Testing

/// Readiness is "this gateway can serve", not "every service is up": over
/// real HTTP, with the real services, one of them replaced by an address
/// that refuses connections.
@Suite("Gateway readiness and liveness")
struct GatewayReadinessTests {
    @Test("with one service down the gateway stays ready (200) while /health says degraded (503), and it still serves the others' routes")
    func oneServiceDownKeepsTheGatewayReady() async throws {
        try await withShopServices { services in
            var upstreams = services
            upstreams["order"] = ServiceEndpoint(host: "127.0.0.1", port: try RawSocket.refusingPort())
            try await withGateway(GatewayHarness.configuration(upstreams: upstreams)) { http, _ throws in
                let ready = try await http.get("/health/ready")
                #expect(ready.status == 200, "\(ready.body)")
                #expect(ready.string("status") == "ready")
                let health = try await http.get("/health")
                #expect(health.status == 503, "\(health.body)")
                #expect(health.string("status") == "degraded")
                let catalog = try await http.get("/api/products/")
                #expect(catalog.status == 200, "a route of a service that is up: \(catalog.body)")
            }
        }
    }

    @Test("with every service down the gateway is not ready (503) but alive (200)")
    func everyServiceDownIsNotReadyButAlive() async throws {
        try await withDeadGateway { http, _ throws in
            let ready = try await http.get("/health/ready")
            #expect(ready.status == 503, "\(ready.body)")
            #expect(ready.string("status") == "not ready")
            let live = try await http.get("/health/live")
            #expect(live.status == 200, "\(live.body)")
            #expect(live.string("status") == "alive")
        }
    }

    @Test("a service that answers but whose circuit is open does not make the gateway ready")
    func anOpenCircuitIsNotUsable() async throws {
        let breaker = CircuitBreaker.Policy(windowSize: 2, minimumCalls: 2, failureRateThreshold: 1, openDuration: .seconds(60), halfOpenProbes: 1)
        try await withShopServices { services in
            // Only the product service is reachable, and its circuit opens.
            var upstreams = try GatewayHarness.deadUpstreams()
            upstreams["product"] = services["product"]
            try await withGateway(GatewayHarness.configuration(upstreams: upstreams) { $0.circuitBreaker = breaker }) { http, directory throws in
                #expect(try await http.get("/health/ready").status == 200, "product is usable")
                let product = try #require(directory.upstream(forService: "shop.product.v1.ProductService"))
                for _ in 0..<2 {
                    let admission = try await product.admit()
                    product.finish(admission, error: RPCError(code: .unavailable, message: "sick"), policy: .init(idempotent: true, deadlinesAreUpstreamFailures: true))
                }
                #expect(product.circuitState.name == "open")
                let ready = try await http.get("/health/ready")
                #expect(ready.status == 503, "\(ready.body)")
            }
        }
    }

    @Test("readiness and liveness answer without a token and show nothing of the internal network")
    func probesAreBare() async throws {
        try await withShop { http throws in
            for path in ["/health/ready", "/health/live"] {
                let reply = try await http.get(path)
                #expect(reply.status == 200, "\(path): \(reply.body)")
                #expect(!reply.body.contains("127.0.0.1") && reply.json["services"] == nil, "\(path): \(reply.body)")
            }
        }
    }
}
