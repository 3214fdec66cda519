import Foundation
import FrameRPC
@testable import Gateway
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import ShopObservability
import Testing

/// `GET /metrics` on the gateway and a service's metrics port, counting
/// exactly the traffic the test made (each system under test has a
/// registry of its own).
@Suite("Metrics")
struct MetricsRouteTests {
    static let listProducts = "/shop.product.v1.ProductService/ListProducts"

    @Test("GET /metrics counts requests by route template and status, and the RPCs behind them")
    func gatewayCounts() async throws {
        let metrics = MetricsRegistry()
        try await withShop({ $0.metrics = metrics }) { http in
            for _ in 0..<3 { #expect(try await http.get("/api/products/").status == 200) }
            for _ in 0..<2 { #expect(try await http.get("/api/products/\(UUID().uuidString.lowercased())").status == 404) }
            #expect(try await http.get("/no/such/\(UUID().uuidString)").status == 404)

            let reply = try await http.get("/metrics")
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type")?.hasPrefix("text/plain") == true)
            let text = PrometheusText(reply.body)
            #expect(text.value("http_requests_total", ["method": "GET", "route": "/api/products/", "status": "200"]) == 3)
            #expect(text.value("http_requests_total", ["method": "GET", "route": "/api/products/{id}", "status": "404"]) == 2)
            #expect(text.value("http_requests_total", ["route": "unmatched", "status": "404"]) == 1)
            #expect(text.value("http_request_duration_seconds_count", ["method": "GET", "route": "/api/products/"]) == 3)
            // The scrape itself is the one request in flight.
            #expect(text.value("http_requests_in_flight") == 1)
            #expect(text.value("rpc_client_calls_total", ["method": Self.listProducts, "code": "OK"]) == 3)
            #expect(text.value("rpc_client_calls_total", ["method": "/shop.product.v1.ProductService/GetProduct", "code": "NOT_FOUND"]) == 2)
            #expect(text.value("rpc_client_call_duration_seconds_count", ["method": Self.listProducts]) == 3)
            #expect(text.value("gateway_circuit_breaker_state", ["upstream": "product"]) == 0)

            let again = PrometheusText(try await http.get("/metrics").body)
            #expect(again.value("http_requests_total", ["route": "/metrics", "status": "200"]) == 1)
        }
    }

    @Test("an upstream's open circuit shows as 2 in gateway_circuit_breaker_state")
    func breakerGauge() async throws {
        let metrics = MetricsRegistry()
        try await withDeadGateway({
            $0.metrics = metrics
            $0.circuitBreaker = ResilienceTests.quickBreaker
        }) { http, _ in
            for _ in 0..<2 { _ = try await http.get("/api/products/") }
            let text = PrometheusText(try await http.get("/metrics").body)
            #expect(text.value("gateway_circuit_breaker_state", ["upstream": "product"]) == 2)
            #expect(text.value("gateway_circuit_breaker_state", ["upstream": "user"]) == 0)
            #expect(text.value("http_requests_total", ["route": "/api/products/", "status": "503"]) == 2)
        }
    }

    @Test("a service serves its calls, connections and database time on SHOP_METRICS_PORT")
    func serviceEndpoint() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let metrics = MetricsRegistry()
        let environment = ServiceEnvironment(
            dataDirectory: folder.path,
            settings: [ServiceEnvironment.MetricsSetting.port: "0"],
            tls: TestPKI.shared.server(as: "product"),
            logger: testLogger("metrics-tests.product"),
            metrics: metrics
        )
        try await withRunningServicePorts(ProductServiceApp.factory, environment: environment) { ports in
            let client = ProductServiceClient(RPCClient.testing(port: ports.rpc, calling: "product"))
            defer { client.rpc.shutdown() }
            for _ in 0..<2 { _ = try await client.listProducts(.init()) }
            let metricsPort = try #require(ports.metrics)

            let scrape = try await fetch(port: metricsPort, path: "/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.headers["content-type"]?.hasPrefix("text/plain") == true)
            let text = PrometheusText(scrape.body)
            #expect(text.value("rpc_server_calls_total", ["method": Self.listProducts, "code": "OK"]) == 2)
            #expect(text.value("rpc_server_call_duration_seconds_count", ["method": Self.listProducts]) == 2)
            #expect(text.value("rpc_server_connections") == 1)
            #expect((text.value("db_statement_duration_seconds_count", ["database": "product"]) ?? 0) > 0)

            #expect(try await fetch(port: metricsPort, path: "/elsewhere").status == 404)
        }
    }

    @Test("no SHOP_METRICS_PORT, no metrics endpoint")
    func serviceEndpointOff() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let environment = ServiceEnvironment(dataDirectory: folder.path, tls: TestPKI.shared.server(as: "product"), logger: testLogger("metrics-tests.product"), metrics: MetricsRegistry())
        try await withRunningServicePorts(ProductServiceApp.factory, environment: environment) { ports in
            #expect(ports.metrics == nil)
        }
    }

    @Test("a malformed SHOP_METRICS_PORT is a configuration error naming it")
    func badMetricsPort() throws {
        let environment = ServiceEnvironment(dataDirectory: "/tmp", settings: [ServiceEnvironment.MetricsSetting.port: "http"])
        #expect {
            _ = try environment.metricsEndpoint(serviceHost: "127.0.0.1")
        } throws: { error in
            "\(error)".contains(ServiceEnvironment.MetricsSetting.port)
        }
    }
}
