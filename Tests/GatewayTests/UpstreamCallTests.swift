import FrameRPC
import Foundation
@testable import Gateway
import Hummingbird
import ServiceTesting
import Synchronization
import Testing

/// The retry loop and breaker of ``Upstream`` around one call, with the
/// call's outcomes scripted (the network is not involved).
@Suite("Upstream calls: retries, budget and breaker")
struct UpstreamCallTests {
    static let retry = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(2))

    func upstream(
        retry: RetryPolicy = UpstreamCallTests.retry,
        breaker: CircuitBreaker.Policy = .init(),
        concurrency: AdaptiveConcurrencyLimit.Policy = .init()
    ) -> Upstream {
        Upstream(
            name: "product",
            serviceName: "shop.product.v1.ProductService",
            client: RPCClient(host: "127.0.0.1", port: 9),
            breaker: breaker,
            retry: retry,
            concurrency: concurrency
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

    static let quickBreaker = CircuitBreaker.Policy(windowSize: 4, minimumCalls: 4, failureRateThreshold: 0.5, openDuration: .seconds(60), halfOpenProbes: 1)

    @Test("RESOURCE_EXHAUSTED from the upstream, however often, does not open the circuit")
    func resourceExhaustedKeepsCircuitClosed() async {
        let target = upstream(retry: RetryPolicy(maximumAttempts: 1), breaker: Self.quickBreaker)
        for _ in 0..<20 {
            let error = await run(target, Script([RPCError(code: .resourceExhausted, message: "too many concurrent calls")]), idempotent: true)
            #expect((error as? RPCError)?.code == .resourceExhausted)
        }
        #expect(target.circuitState == .closed)
    }

    @Test("a deadline that passed while the call waited in the client for a slot does not open the circuit")
    func queuedDeadlineKeepsCircuitClosed() async throws {
        let target = upstream(retry: RetryPolicy(maximumAttempts: 1), breaker: Self.quickBreaker)
        let queued = try await Self.deadlineWhileQueued()
        #expect(queued.neverProcessed)
        for _ in 0..<8 { _ = await run(target, Script([queued]), idempotent: true) }
        #expect(target.circuitState == .closed)
    }

    @Test("UNAVAILABLE, INTERNAL and a deadline missed by the upstream do open it")
    func sicknessOpensCircuit() async {
        for code: RPCError.Code in [.unavailable, .internal, .deadlineExceeded] {
            let target = upstream(retry: RetryPolicy(maximumAttempts: 1), breaker: Self.quickBreaker)
            for _ in 0..<4 { _ = await run(target, Script([RPCError(code: code, message: "sick")]), idempotent: false) }
            #expect(target.circuitState.name == "open", "\(code)")
        }
    }

    @Test("past the concurrency limit a call is shed at once with 503 and Retry-After, not attempted, not counted by the breaker")
    func shedsPastConcurrencyLimit() async throws {
        let target = upstream(
            retry: RetryPolicy(maximumAttempts: 1),
            breaker: Self.quickBreaker,
            concurrency: .init(initialLimit: 2, minimumLimit: 2, maximumLimit: 2)
        )
        let gate = AsyncGate()
        let holders = (0..<2).map { _ in
            Task {
                try await target.unary(policy: .init(idempotent: true, deadlinesAreUpstreamFailures: true), deadline: .now + .seconds(30), record: RequestRecord()) {
                    await gate.wait()
                    return Data("{}".utf8)
                }
            }
        }
        try await waitUntil { target.concurrencyLimit.inFlight == 2 }
        for _ in 0..<10 {
            let script = Script([])
            let error = await run(target, script, idempotent: true)
            let shed = try #require(error as? GatewayError)
            #expect(shed.status == .serviceUnavailable)
            #expect(shed.headers[.retryAfter] != nil)
            #expect(script.attempts == 0)
        }
        await gate.open()
        for holder in holders { _ = try await holder.value }
        #expect(target.circuitState == .closed)
        #expect(target.concurrencyLimit.inFlight == 0)
        #expect(await run(target, Script([]), idempotent: true) == nil)
    }

    /// A real DEADLINE_EXCEEDED of a call that waited in the client's queue:
    /// a server that allows one call per connection, busy with a long one,
    /// so the second waits in the client until its deadline.
    static func deadlineWhileQueued() async throws -> RPCError {
        let server = RPCServer(configuration: .init(maximumConcurrentCallsPerConnection: 1), services: [SleepService()])
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let client = RPCClient(host: "127.0.0.1", port: try await server.port)
            defer { client.shutdown() }
            let long = Task { try? await client.sleep(milliseconds: 30_000) }
            defer { long.cancel() }
            #expect(await eventually(timeout: .seconds(10)) { client.endpoints.first?.callsInFlight == 1 })
            do {
                try await client.sleep(milliseconds: 1, options: CallOptions(timeout: .milliseconds(300)))
            } catch let error as RPCError {
                return error
            }
            throw HarnessFailure("a call beyond the server's limit of 1 did not wait")
        }
    }

    /// Held shut until opened; for calls that must stay in flight.
    actor AsyncGate {
        private var isOpen = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        func wait() async {
            if isOpen { return }
            await withCheckedContinuation { waiters.append($0) }
        }

        func open() {
            isOpen = true
            for waiter in waiters { waiter.resume() }
            waiters.removeAll()
        }
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        let held = await eventually(timeout: .seconds(10)) { condition() }
        if !held { throw HarnessFailure("condition not reached in time") }
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

/// Sleeps for the milliseconds written in the request's `service` field: a
/// call that stays in flight (health messages, so no other protobuf types
/// are needed here).
struct SleepService: RPCService {
    static let sleep = "/test.v1.Sleep/Sleep"

    func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(Self.sleep) { (request: HealthCheckRequest, _) -> HealthCheckResponse in
            try await Task.sleep(for: .milliseconds(Int(request.service) ?? 0))
            return HealthCheckResponse()
        }
    }
}

extension RPCClient {
    func sleep(milliseconds: Int, options: CallOptions = .defaults) async throws {
        var request = HealthCheckRequest()
        request.service = String(milliseconds)
        _ = try await unary(method: SleepService.sleep, request: request, response: HealthCheckResponse.self, options: options)
    }
}
