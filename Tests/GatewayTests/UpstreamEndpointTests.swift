import FrameRPC
import Foundation
@testable import Gateway
import Synchronization
import Testing

/// ``Upstream`` over two endpoints, with each endpoint's answers scripted
/// (the attempts never touch the network): where attempts go, and what a
/// breaker per endpoint does.
@Suite("Upstream calls across endpoints")
struct UpstreamEndpointTests {
    static let retry = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(2))
    static let quickBreaker = CircuitBreaker.Policy(windowSize: 2, minimumCalls: 2, failureRateThreshold: 1, openDuration: .seconds(60), halfOpenProbes: 1)
    /// Two endpoints nothing listens on; the script answers for them.
    static let failing = RPCAddress(host: "127.0.0.1", port: 9)
    static let healthy = RPCAddress(host: "127.0.0.1", port: 10)

    func upstream(retry: RetryPolicy = UpstreamEndpointTests.retry, breaker: CircuitBreaker.Policy = .init()) -> Upstream {
        Upstream(
            name: "product",
            serviceName: "shop.product.v1.ProductService",
            client: RPCClient(target: .addresses([Self.failing, Self.healthy])),
            breaker: breaker,
            retry: retry
        )
    }

    /// Fails every attempt sent to ``failing`` (or to both), records where each went.
    final class Script: Sendable {
        private let endpoints = Mutex<[String]>([])
        let failEverywhere: Bool

        init(failEverywhere: Bool = false) {
            self.failEverywhere = failEverywhere
        }

        var attempts: [String] { endpoints.withLock { $0 } }

        func attempt(_ client: RPCClient) throws -> Data {
            endpoints.withLock { $0.append(client.endpoint) }
            if failEverywhere || client.port == UpstreamEndpointTests.failing.port {
                throw RPCError(code: .unavailable, message: "down")
            }
            return Data("{}".utf8)
        }
    }

    func run(_ upstream: Upstream, _ script: Script) async -> (any Error)? {
        do {
            _ = try await upstream.unary(
                policy: .init(idempotent: true, deadlinesAreUpstreamFailures: true),
                deadline: .now + .seconds(5),
                record: RequestRecord()
            ) { client in try script.attempt(client) }
            return nil
        } catch {
            return error
        }
    }

    @Test("a retry goes to another endpoint than the attempt that failed")
    func retryElsewhere() async {
        let target = upstream()
        for _ in 0..<20 {
            let script = Script()
            #expect(await run(target, script) == nil)
            // Whatever the first pick, a failed attempt is never followed by the same endpoint.
            #expect(script.attempts.last == Self.healthy.description)
            #expect(script.attempts.count <= 2)
        }
    }

    @Test("an endpoint whose circuit opened gets no more calls; the service's circuit stays closed")
    func openEndpointSkipped() async {
        let target = upstream(retry: RetryPolicy(maximumAttempts: 1), breaker: Self.quickBreaker)
        let script = Script()
        for _ in 0..<60 { _ = await run(target, script) }
        // Picks are random until the failing endpoint's two failures open its circuit.
        #expect(script.attempts.filter { $0 == Self.failing.description }.count == 2)
        #expect(script.attempts.suffix(20).allSatisfy { $0 == Self.healthy.description })
        #expect(target.circuitState == .closed)
        #expect(target.endpointCircuits.map(\.state.name) == ["open", "closed"])
    }

    @Test("only when every endpoint's circuit is open is a call refused with 503, unattempted")
    func allOpen() async {
        let target = upstream(retry: RetryPolicy(maximumAttempts: 1), breaker: Self.quickBreaker)
        let failing = Script(failEverywhere: true)
        for _ in 0..<40 where target.circuitState == .closed {
            _ = await run(target, failing)
        }
        #expect(target.circuitState.name == "open")
        let script = Script()
        let error = await run(target, script)
        #expect((error as? GatewayError)?.status == .serviceUnavailable)
        #expect(script.attempts.isEmpty)
    }

    @Test("a call never sent is retried on the other endpoint even when not idempotent")
    func neverSentElsewhere() async throws {
        let target = upstream()
        let never = try await UpstreamCallTests.neverProcessed()
        let attempts = Mutex<[String]>([])
        _ = try await target.unary(
            policy: .init(idempotent: false, deadlinesAreUpstreamFailures: true),
            deadline: .now + .seconds(5),
            record: RequestRecord()
        ) { client in
            let count = attempts.withLock { $0.append(client.endpoint); return $0.count }
            if count == 1 { throw never }
            return Data("{}".utf8)
        }
        let seen = attempts.withLock { $0 }
        #expect(seen.count == 2)
        #expect(seen.first != seen.last)
    }
}
