import FrameRPC
import Foundation
@testable import Gateway
import Synchronization
import Testing

/// The retry loop and breaker of ``Upstream`` around one call, with the
/// call's outcomes scripted (the network is not involved).
@Suite("Upstream calls: retries, budget and breaker")
struct UpstreamCallTests {
    static let retry = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(2))

    func upstream(retry: RetryPolicy = UpstreamCallTests.retry, breaker: CircuitBreaker.Policy = .init()) -> Upstream {
        Upstream(
            name: "product",
            serviceName: "shop.product.v1.ProductService",
            client: RPCClient(host: "127.0.0.1", port: 9),
            breaker: breaker,
            retry: retry
        )
    }

    /// A call that fails with `failures` in turn, then succeeds; counts attempts.
    final class Script: Sendable {
        private let state: Mutex<(failures: [RPCError], attempts: Int)>
        init(_ failures: [RPCError]) { state = Mutex((failures, 0)) }
        var attempts: Int { state.withLock { $0.attempts } }
        func attempt() throws -> Data {
            try state.withLock { state in
                state.attempts += 1
                if state.failures.isEmpty { return Data("{}".utf8) }
                throw state.failures.removeFirst()
            }
        }
    }

    func run(_ upstream: Upstream, _ script: Script, idempotent: Bool, deadline: Duration = .seconds(5)) async -> (any Error)? {
        do {
            _ = try await upstream.unary(
                policy: .init(idempotent: idempotent, deadlinesAreUpstreamFailures: true),
                deadline: .now + deadline,
                record: RequestRecord()
            ) { try script.attempt() }
            return nil
        } catch {
            return error
        }
    }

    static let unavailable = RPCError(code: .unavailable, message: "down")

    /// A real "never processed" error: a call refused before it was sent.
    static func neverProcessed() async throws -> RPCError {
        let client = RPCClient(host: "127.0.0.1", port: try RawSocket.refusingPort())
        defer { client.shutdown() }
        do {
            _ = try await HealthClient(client).check(HealthCheckRequest())
        } catch let error as RPCError {
            return error
        }
        throw HarnessFailure("a call to a closed port succeeded")
    }

    @Test("an idempotent call that meets UNAVAILABLE is tried again and succeeds")
    func idempotentRetried() async {
        let script = Script([Self.unavailable, Self.unavailable])
        #expect(await run(upstream(), script, idempotent: true) == nil)
        #expect(script.attempts == 3)
    }

    @Test("a call that is not idempotent is not tried again after UNAVAILABLE")
    func notIdempotent() async {
        let script = Script([Self.unavailable])
        #expect(await run(upstream(), script, idempotent: false) is RPCError)
        #expect(script.attempts == 1)
    }

    @Test("a call that was never sent is tried again even when not idempotent")
    func neverSentRetried() async throws {
        let script = Script([try await Self.neverProcessed()])
        #expect(await run(upstream(), script, idempotent: false) == nil)
        #expect(script.attempts == 2)
    }

    @Test("no more than the maximum attempts are made")
    func maximumAttempts() async {
        let script = Script(Array(repeating: Self.unavailable, count: 10))
        #expect(await run(upstream(), script, idempotent: true) is RPCError)
        #expect(script.attempts == 3)
    }

    @Test("no retry is made when the deadline leaves no room for its wait")
    func deadlineStopsRetries() async {
        let slow = RetryPolicy(maximumAttempts: 5, initialBackoff: .seconds(1), maximumBackoff: .seconds(1))
        let script = Script(Array(repeating: Self.unavailable, count: 10))
        #expect(await run(upstream(retry: slow), script, idempotent: true, deadline: .milliseconds(500)) is RPCError)
        #expect(script.attempts == 1)
    }

    @Test("retries stop when the budget is spent")
    func budgetStopsRetries() async {
        let stingy = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(1), budgetRatio: 0, budgetReserve: 1)
        let target = upstream(retry: stingy)
        let first = Script(Array(repeating: Self.unavailable, count: 10))
        _ = await run(target, first, idempotent: true)
        #expect(first.attempts == 2)
        let second = Script(Array(repeating: Self.unavailable, count: 10))
        _ = await run(target, second, idempotent: true)
        #expect(second.attempts == 1)
    }

    @Test("an open circuit fails the call with 503 without attempting it")
    func openCircuit() async {
        let target = upstream(retry: RetryPolicy(maximumAttempts: 1), breaker: .init(windowSize: 2, minimumCalls: 2, failureRateThreshold: 1, openDuration: .seconds(60), halfOpenProbes: 1))
        for _ in 0..<2 { _ = await run(target, Script([Self.unavailable]), idempotent: false) }
        let script = Script([])
        let error = await run(target, script, idempotent: false)
        #expect((error as? GatewayError)?.status == .serviceUnavailable)
        #expect(script.attempts == 0)
    }

    @Test("the in-flight limiter admits up to its limit and frees slots on release")
    func inFlightLimiter() {
        let limiter = InFlightLimiter(limit: 2)
        #expect(limiter.tryAcquire())
        #expect(limiter.tryAcquire())
        #expect(!limiter.tryAcquire())
        #expect(limiter.inFlight == 2)
        limiter.release()
        #expect(limiter.tryAcquire())
    }
}
