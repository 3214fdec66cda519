import Foundation
@testable import Gateway
import Logging
import ServiceSupport
import ShopObservability
import ServiceTesting
import Testing

/// Logs and traces through the whole shop: the gateway and the five real
/// services in this process, each writing JSON lines to one in-memory sink.
@Suite("Trace ids across the shop")
struct ObservedOrderTests {
    static let traceID = "0af7651916cd43dd8448eb211c80319c"
    static let traceParent = "00-\(traceID)-b7ad6b7169203331-01"

    /// The lines of `sink` as JSON objects of strings.
    static func lines(_ sink: InMemoryLogSink) -> [[String: String]] {
        sink.lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: String] }
    }

    /// The shop with every process logging JSON at `info` to `sink`, each
    /// line's `service` naming its process.
    func withObservedShop<Result: Sendable>(
        _ sink: InMemoryLogSink,
        _ body: @escaping @Sendable (HTTP) async throws -> Result
    ) async throws -> Result {
        let logger: @Sendable (String) -> Logger = { name in
            Observability.logger(label: "shop.\(name)", processName: name, sink: sink)
        }
        return try await withShopServices(logger: logger) { upstreams in
            try await withGateway(GatewayHarness.configuration(upstreams: upstreams) { $0.logger = logger("gateway") }) { http, _ in
                try await body(http)
            }
        }
    }

    @Test("one order's trace id is on log lines of the gateway and of all five services")
    func orderTraceEverywhere() async throws {
        let sink = InMemoryLogSink()
        try await withObservedShop(sink) { http in
            let admin = try await http.adminToken()
            let productID = try await http.createProduct(admin: admin)
            try await http.setStock(admin: admin, productID: productID, available: 5)
            let user = try await http.newUser()
            let reply = try await http.order(token: user.token, productID: productID, quantity: 1, headers: [
                "traceparent": Self.traceParent, "X-Request-ID": "order-request-1",
            ])
            #expect(reply.status == 201)

            // The notification comes later, from the outbox relay.
            let services = ["gateway", "order", "user", "product", "inventory", "notification"]
            let complete = try await eventually {
                let traced = Set(Self.lines(sink).filter { $0["trace_id"] == Self.traceID }.compactMap { $0["service"] })
                return traced.isSuperset(of: services)
            }
            let traced = Self.lines(sink).filter { $0["trace_id"] == Self.traceID }
            #expect(complete, "services with a line of the trace: \(Set(traced.compactMap { $0["service"] }).sorted())")
            for service in services {
                #expect(traced.contains { $0["service"] == service }, "no line of the trace from \(service)")
            }
            // Lines written during the request name it too; the relay's carry it on.
            #expect(traced.filter { $0["service"] != "notification" }.allSatisfy { $0["request_id"] == "order-request-1" })
            let notify = try #require(traced.first { $0["method"] == "/shop.notification.v1.NotificationService/Notify" })
            #expect(notify["request_id"] == "order-request-1")
            // Each hop is its own span of the one trace.
            let spans = Set(traced.compactMap { $0["span_id"] })
            #expect(spans.count >= 5)
            #expect(!spans.contains("b7ad6b7169203331"))
        }
    }

    @Test("the access log line is a JSON line with the request id, trace id, route and status")
    func accessLine() async throws {
        let sink = InMemoryLogSink()
        try await withObservedShop(sink) { http in
            let reply = try await http.get("/api/products/", headers: ["traceparent": Self.traceParent, "X-Request-ID": "list-1"])
            #expect(reply.status == 200)
            let access = try #require(Self.lines(sink).first { $0["message"] == "access" && $0["request_id"] == "list-1" })
            #expect(access["service"] == "gateway")
            #expect(access["trace_id"] == Self.traceID)
            #expect(access["route"] == "/api/products/")
            #expect(access["status"] == "200")
            #expect(access["upstream"] == "product")
            let call = try #require(Self.lines(sink).first { $0["service"] == "product" && $0["request_id"] == "list-1" })
            #expect(call["trace_id"] == Self.traceID)
            #expect(call["span_id"] != access["span_id"])
        }
    }

    /// Invalid by the W3C rules: all-zero trace id, all-zero parent id,
    /// uppercase hex, not a traceparent at all.
    static let invalidTraceParents = [
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "01-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",
        "nonsense",
    ]

    @Test("an invalid traceparent is ignored and a new trace started")
    func invalidTraceParent() async throws {
        let sink = InMemoryLogSink()
        try await withObservedShop(sink) { http in
            for (index, header) in Self.invalidTraceParents.enumerated() {
                let requestID = "bad-trace-\(index)"
                _ = try await http.get("/api/products/", headers: ["traceparent": header, "X-Request-ID": requestID])
                let access = try #require(Self.lines(sink).first { $0["message"] == "access" && $0["request_id"] == requestID })
                let traceID = try #require(access["trace_id"])
                #expect(traceID.count == 32, "\(header)")
                #expect(traceID != "00000000000000000000000000000000", "\(header)")
                #expect(!header.lowercased().contains(traceID), "\(header)")
                let call = try #require(Self.lines(sink).first { $0["service"] == "product" && $0["request_id"] == requestID })
                #expect(call["trace_id"] == traceID, "\(header)")
            }
        }
    }

    @Test("the response's traceparent names the gateway's span of the caller's trace")
    func responseTraceParent() async throws {
        try await withDeadGateway { http, _ in
            let traced = try await http.get("/", headers: ["traceparent": Self.traceParent])
            let span = try #require(traced.header("traceparent").flatMap { TraceContext(traceParent: $0) })
            #expect(span.traceID == Self.traceID)
            #expect(span.spanIDString != "b7ad6b7169203331")
            let untraced = try await http.get("/")
            #expect(untraced.header("traceparent").flatMap { TraceContext(traceParent: $0) } != nil)
        }
    }

    @Test("a request without a traceparent gets a trace of its own, shared with its calls")
    func newTrace() async throws {
        let sink = InMemoryLogSink()
        try await withObservedShop(sink) { http in
            _ = try await http.get("/api/products/", headers: ["X-Request-ID": "no-trace"])
            let access = try #require(Self.lines(sink).first { $0["message"] == "access" && $0["request_id"] == "no-trace" })
            let call = try #require(Self.lines(sink).first { $0["service"] == "product" && $0["request_id"] == "no-trace" })
            #expect(access["trace_id"] != nil)
            #expect(call["trace_id"] == access["trace_id"])
        }
    }
}
