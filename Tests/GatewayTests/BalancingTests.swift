import FrameRPC
import Foundation
@testable import Gateway
import ProductService
import ServiceSupport
import ServiceTesting
import ShopAPI
import Synchronization
import Testing

/// What a stream of requests saw.
final class TrafficTally: Sendable {
    private let state = Mutex<(ok: Int, failures: [String])>((0, []))
    private let stopped = Atomic<Bool>(false)

    var ok: Int { state.withLock { $0.ok } }
    var failures: [String] { state.withLock { $0.failures } }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    func record(_ reply: Reply) {
        state.withLock { state in
            if reply.status == 200 { state.ok += 1 } else { state.failures.append(reply.description) }
        }
    }

    func record(_ error: any Error) {
        state.withLock { $0.failures.append("\(error)") }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }
}

/// Answers every call but health checks with UNAVAILABLE, as an
/// overloaded replica would.
struct RefuseEverything: ServerInterceptor {
    func intercept(context: ServerContext, next: (ServerContext) async throws -> ServerOutcome) async throws -> ServerOutcome {
        guard context.method.hasPrefix("/framerpc.health.") else {
            throw RPCError(code: .unavailable, message: "overloaded")
        }
        return try await next(context)
    }
}

@Suite("Balancing behind the gateway")
struct GatewayBalancingTests {
    static let listProducts = ProductServiceMethod.listProducts

    static func environment(_ folder: TemporaryDirectory) -> ServiceEnvironment {
        ServiceEnvironment(dataDirectory: folder.path, tls: TestPKI.shared.server(as: "product"), logger: testLogger("gateway-tests.balancing"))
    }

    /// Sends `GET /api/products/` from `workers` loops until `tally` is stopped.
    static func traffic(_ http: HTTP, tally: TrafficTally, workers: Int = 4) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    while !tally.isStopped {
                        do {
                            tally.record(try await http.get("/api/products/"))
                        } catch {
                            tally.record(error)
                        }
                    }
                }
            }
        }
    }

    @Test("GETs spread over two product instances, and none fails when one is stopped")
    func noFailedGetsWhenOneStops() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let survivor = CallCounter()
        let stopping = CallCounter()
        try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder), interceptors: [survivor]) { survivorPort in
            let (stop, stopSignal) = AsyncStream.makeStream(of: Void.self)
            let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
            let (stopped, stoppedSignal) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { instances in
                instances.addTask {
                    defer { stoppedSignal.finish() }
                    try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder), interceptors: [stopping]) { port in
                        portSink.yield(port)
                        for await _ in stop {}
                    }
                }
                var portIterator = ports.makeAsyncIterator()
                let stoppingPort = try #require(await portIterator.next())
                var upstreams = try GatewayHarness.deadUpstreams()
                upstreams["product"] = nil
                let configuration = GatewayHarness.configuration(upstreams: upstreams) {
                    $0.upstreamTargets["product"] = .addresses([
                        RPCAddress(host: "127.0.0.1", port: survivorPort),
                        RPCAddress(host: "127.0.0.1", port: stoppingPort),
                    ])
                }
                try await withGateway(configuration) { http, _ throws in
                    let tally = TrafficTally()
                    async let load: Void = Self.traffic(http, tally: tally)

                    // Both up: both serve.
                    let spread = try await eventually(timeout: .seconds(20)) {
                        survivor.count(of: Self.listProducts) >= 20 && stopping.count(of: Self.listProducts) >= 20
                    }
                    #expect(spread)

                    // One stopped mid-traffic: the survivor takes everything.
                    stopSignal.finish()
                    for await _ in stopped {}
                    let afterStop = survivor.count(of: Self.listProducts)
                    let movedOver = try await eventually(timeout: .seconds(20)) {
                        survivor.count(of: Self.listProducts) >= afterStop + 200
                    }
                    tally.stop()
                    await load
                    #expect(movedOver)
                    #expect(tally.failures.isEmpty, "\(tally.failures.count) failed: \(tally.failures.prefix(3))")
                    #expect(tally.ok > 200)
                }
            }
        }
    }

    @Test("a dead endpoint beside a live one costs no failed request and leaves the service's circuit closed")
    func deadEndpointBesideLiveOne() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let served = CallCounter()
        try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder), interceptors: [served]) { port in
            var upstreams = try GatewayHarness.deadUpstreams()
            upstreams["product"] = nil
            let dead = try RawSocket.refusingPort()
            let configuration = GatewayHarness.configuration(upstreams: upstreams) {
                $0.upstreamTargets["product"] = try? RPCTarget(parsing: "127.0.0.1:\(dead),127.0.0.1:\(port)")
                $0.circuitBreaker = ResilienceTests.quickBreaker
            }
            try await withGateway(configuration) { http, upstreams throws in
                for _ in 0..<50 {
                    let reply = try await http.get("/api/products/")
                    #expect(reply.status == 200, "\(reply)")
                }
                #expect(served.count(of: Self.listProducts) == 50)
                let product = try #require(upstreams.upstream(forService: ProductServiceMethod.serviceName))
                #expect(product.circuitState == .closed)
                #expect(product.endpointCircuits.count == 2)
            }
        }
    }

    @Test("an endpoint whose circuit is open is skipped while the other serves")
    func openCircuitSkipped() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let served = CallCounter()
        let refused = CallCounter()
        try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder), interceptors: [served]) { port in
            // A real instance that is connected and answers, but only UNAVAILABLE
            // (an overloaded replica): only its breaker can keep calls away from it.
            try await withRunningService(
                ProductServiceApp.factory,
                environment: Self.environment(folder),
                interceptors: [refused, RefuseEverything()]
            ) { sickPort in
                var upstreams = try GatewayHarness.deadUpstreams()
                upstreams["product"] = nil
                let configuration = GatewayHarness.configuration(upstreams: upstreams) {
                    $0.upstreamTargets["product"] = .addresses([
                        RPCAddress(host: "127.0.0.1", port: sickPort),
                        RPCAddress(host: "127.0.0.1", port: port),
                    ])
                    $0.circuitBreaker = ResilienceTests.quickBreaker
                }
                try await withGateway(configuration) { http, upstreams throws in
                    let product = try #require(upstreams.upstream(forService: ProductServiceMethod.serviceName))
                    let opened = try await eventually(timeout: .seconds(30)) {
                        let reply = try await http.get("/api/products/")
                        #expect(reply.status == 200, "\(reply)")
                        return product.endpointCircuits.first { $0.address.port == sickPort }?.state.name == "open"
                    }
                    #expect(opened)
                    let before = (served.count(of: Self.listProducts), refused.count(of: Self.listProducts))
                    for _ in 0..<30 {
                        let reply = try await http.get("/api/products/")
                        #expect(reply.status == 200, "\(reply)")
                    }
                    #expect(served.count(of: Self.listProducts) == before.0 + 30)
                    #expect(refused.count(of: Self.listProducts) == before.1)
                    #expect(product.circuitState == .closed)
                    let health = try await http.get("/health")
                    #expect(health.json["circuits"]?["product"] == .string("closed"))
                }
            }
        }
    }

    @Test("/health calls a service healthy when any of its endpoints is, and lists each")
    func healthPerEndpoint() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder)) { port in
            var upstreams = try GatewayHarness.deadUpstreams()
            upstreams["product"] = nil
            let dead = try RawSocket.refusingPort()
            let configuration = GatewayHarness.configuration(upstreams: upstreams) {
                $0.upstreamTargets["product"] = .addresses([
                    RPCAddress(host: "127.0.0.1", port: dead),
                    RPCAddress(host: "127.0.0.1", port: port),
                ])
                // Room for a loaded machine: the live endpoint must answer in time.
                $0.healthCheckTimeout = .seconds(5)
            }
            try await withGateway(configuration) { http, _ throws in
                let reply = try await http.get("/health")
                #expect(reply.json["services"]?["product"] == .string("healthy"))
                #expect(reply.json["services"]?["user"] == .string("unhealthy: unavailable"))
                guard case .array(let endpoints)? = reply.json["endpoints"]?["product"] else {
                    Issue.record("no product endpoints in \(reply)")
                    return
                }
                #expect(endpoints.count == 2)
                #expect(endpoints.first?["address"] == .string("127.0.0.1:\(dead)"))
                #expect(endpoints.first?["condition"] == .string("unhealthy: unavailable"))
                #expect(endpoints.last?["condition"] == .string("healthy"))
                #expect(endpoints.last?["circuit"] == .string("closed"))
            }
        }
    }

    @Test("a product service at dns://localhost is reached through the gateway")
    func dnsUpstream() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try await withRunningService(ProductServiceApp.factory, environment: Self.environment(folder)) { port in
            var upstreams = try GatewayHarness.deadUpstreams()
            upstreams["product"] = nil
            let configuration = GatewayHarness.configuration(upstreams: upstreams) {
                $0.upstreamTargets["product"] = .dns(host: "localhost", port: port)
            }
            try await withGateway(configuration) { http, _ throws in
                for _ in 0..<10 {
                    let reply = try await http.get("/api/products/")
                    #expect(reply.status == 200, "\(reply)")
                }
                let health = try await http.get("/health")
                #expect(health.json["services"]?["product"] == .string("healthy"))
            }
        }
    }
}
