import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import ProductService
import ServiceSupport
import ServiceTesting
import Testing

@Suite("Breakers, deadlines and limits over HTTP")
struct ResilienceTests {
    static let quickBreaker = CircuitBreaker.Policy(windowSize: 4, minimumCalls: 2, failureRateThreshold: 0.5, openDuration: .seconds(30), halfOpenProbes: 1)

    @Test("a service that is down opens its circuit; then calls fail fast with 503 and Retry-After")
    func breakerOpens() async throws {
        try await withDeadGateway({ $0.circuitBreaker = Self.quickBreaker }) { http, upstreams throws in
            let product = try #require(upstreams.upstream(forService: "shop.product.v1.ProductService"))
            for _ in 0..<2 {
                #expect(try await http.get("/api/products/").status == 503)
            }
            #expect(product.circuitState.name == "open")
            let reply = try await http.get("/api/products/")
            #expect(reply.status == 503)
            #expect(reply.code == "UNAVAILABLE")
            #expect(reply.string("detail")?.contains("circuit open") == true)
            #expect(Int(reply.header("Retry-After") ?? "") ?? 0 >= 1)
            let health = try await http.get("/health")
            #expect(health.json["circuits"]?["product"] == .string("open"))
            // One service's circuit says nothing about another's.
            #expect(upstreams.upstream(forService: "shop.user.v1.UserService")?.circuitState == .closed)
        }
    }

    @Test("a stopped service opens its circuit and a returning one closes it")
    func breakerClosesAfterRecovery() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let environment = ServiceEnvironment(dataDirectory: folder.path, tls: TestPKI.shared.server(as: "product"), logger: testLogger("gateway-tests.product"))
        let port = try restartablePort()
        var upstreams = try GatewayHarness.deadUpstreams()
        upstreams["product"] = ServiceEndpoint(host: "127.0.0.1", port: port)
        let configuration = GatewayHarness.configuration(upstreams: upstreams) {
            $0.circuitBreaker = .init(windowSize: 4, minimumCalls: 2, failureRateThreshold: 0.5, openDuration: .milliseconds(300), halfOpenProbes: 1)
        }
        try await withGateway(configuration) { http, upstreams throws in
            let product = try #require(upstreams.upstream(forService: "shop.product.v1.ProductService"))
            let before = try await withService(ProductServiceApp.factory, environment: environment, port: port) {
                try await http.get("/api/products/").status
            }
            #expect(before == 200)
            // Stopped: calls fail until the circuit opens.
            #expect(try await eventually { try await http.get("/api/products/").status == 503 && product.circuitState.name == "open" })
            try await withService(ProductServiceApp.factory, environment: environment, port: port) {
                let recovered = try await eventually(timeout: .seconds(20)) {
                    try await http.get("/api/products/").status == 200
                }
                #expect(recovered)
                #expect(product.circuitState == .closed)
            }
        }
    }

    @Test("a service that never answers is 504 at the default deadline")
    func defaultDeadline() async throws {
        let blackhole = try Blackhole()
        var upstreams = try GatewayHarness.deadUpstreams()
        upstreams["product"] = ServiceEndpoint(host: "127.0.0.1", port: blackhole.port)
        let configuration = GatewayHarness.configuration(upstreams: upstreams) { $0.defaultDeadline = .milliseconds(300) }
        try await withGateway(configuration) { http, _ throws in
            let start = ContinuousClock.now
            let reply = try await http.get("/api/products/")
            #expect(reply.status == 504)
            #expect(reply.code == "DEADLINE_EXCEEDED")
            #expect(ContinuousClock.now - start < .seconds(5))
        }
        withExtendedLifetime(blackhole) {}
    }

    @Test("X-Request-Timeout lowers the deadline, and such deadlines do not open the circuit")
    func callerTimeout() async throws {
        let blackhole = try Blackhole()
        var upstreams = try GatewayHarness.deadUpstreams()
        upstreams["product"] = ServiceEndpoint(host: "127.0.0.1", port: blackhole.port)
        let configuration = GatewayHarness.configuration(upstreams: upstreams) {
            $0.circuitBreaker = Self.quickBreaker
            $0.defaultDeadline = .seconds(15)
        }
        try await withGateway(configuration) { http, upstreams throws in
            for _ in 0..<4 {
                let start = ContinuousClock.now
                let reply = try await http.get("/api/products/", headers: ["X-Request-Timeout": "100"])
                #expect(reply.status == 504)
                // Far below the route's 15 s, with room for a loaded machine.
                #expect(ContinuousClock.now - start < .seconds(5))
            }
            #expect(upstreams.upstream(forService: "shop.product.v1.ProductService")?.circuitState == .closed)
        }
        withExtendedLifetime(blackhole) {}
    }

    @Test("past the in-flight limit a request is refused with 429 and Retry-After")
    func inFlightLimit() async throws {
        let blackhole = try Blackhole()
        var upstreams = try GatewayHarness.deadUpstreams()
        upstreams["product"] = ServiceEndpoint(host: "127.0.0.1", port: blackhole.port)
        let configuration = GatewayHarness.configuration(upstreams: upstreams) { $0.maximumInFlightRequests = 1 }
        try await withGateway(configuration) { http, _ throws in
            let slow = TestClient(host: "localhost", port: http.port, configuration: .init(timeout: .seconds(20)))
            slow.connect()
            // Give the slow request the one slot before probing, so no probe
            // can hold the slot when it arrives.
            let pending = Task {
                try await slow.execute(.init("/api/products/", method: .get, headers: [HTTPFields.Element.Name("X-Request-Timeout")!: "3000"]))
            }
            try await Task.sleep(for: .milliseconds(300))
            let refused = try await eventually(timeout: .seconds(3)) {
                let reply = try await http.get("/")
                return reply.status == 429 && reply.code == "RESOURCE_EXHAUSTED" && reply.header("Retry-After") != nil
            }
            #expect(refused)
            let slowReply = try await pending.value
            #expect(slowReply.status == .gatewayTimeout)
            #expect(try await http.get("/").status == 200)
            try await slow.shutdown()
        }
        withExtendedLifetime(blackhole) {}
    }
}
