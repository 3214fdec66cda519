import CoreMetrics
import FrameRPC
import Foundation
import Logging
import ShopObservability
import Synchronization

/// One upstream service as the gateway sees it: its FrameRPC client, its
/// circuit breaker and its retry budget. Every route of that service calls
/// through here.
///
/// A unary call asks the breaker first (open: 503 without touching the
/// network), then tries, recording each attempt's outcome, and tries again
/// only when ``RetryPolicy`` says it is safe, the deadline leaves room for
/// the wait and the budget has a retry to spend.
///
/// The breaker's state is the gauge `gateway_circuit_breaker_state{upstream}`
/// (0 closed, 1 half-open, 2 open), set whenever a call asks or finishes.
public final class Upstream: Sendable {
    /// The short name, `user`.
    public let name: String
    /// The full name, `shop.user.v1.UserService`.
    public let serviceName: String
    public let client: RPCClient
    private let breaker: Mutex<CircuitBreaker>
    private let budget: Mutex<RetryBudget>
    private let retry: RetryPolicy
    private let streams = Atomic<Int>(0)
    private let breakerGauge: Gauge
    private let now: @Sendable () -> ContinuousClock.Instant

    init(
        name: String,
        serviceName: String,
        client: RPCClient,
        breaker: CircuitBreaker.Policy,
        retry: RetryPolicy,
        metrics: MetricsRegistry = .shared,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.breakerGauge = Gauge(label: "gateway_circuit_breaker_state", dimensions: [("upstream", name)], factory: metrics.factory)
        self.breakerGauge.record(0)
        self.name = name
        self.serviceName = serviceName
        self.client = client
        self.breaker = Mutex(CircuitBreaker(policy: breaker))
        self.budget = Mutex(RetryBudget(ratio: retry.budgetRatio, reserve: retry.budgetReserve))
        self.retry = retry
        self.now = now
    }

    /// The breaker's state now (`open` turns `half-open` only when a call asks).
    public var circuitState: CircuitBreaker.State {
        breaker.withLock { $0.state }
    }

    /// Streaming calls running now (a Server-Sent Events response each).
    public var openStreams: Int { streams.load(ordering: .relaxed) }

    /// Runs `body` counted as an open stream.
    func countingStream<T>(_ body: () async throws -> T) async rethrows -> T {
        streams.wrappingAdd(1, ordering: .relaxed)
        defer { streams.wrappingSubtract(1, ordering: .relaxed) }
        return try await body()
    }

    /// How a failure of one attempt is judged.
    struct CallPolicy: Sendable {
        var idempotent: Bool
        /// Whether DEADLINE_EXCEEDED counts against the breaker (not when
        /// the caller chose a shorter deadline itself).
        var deadlinesAreUpstreamFailures: Bool
    }

    /// Makes a unary call with the breaker and retries.
    ///
    /// - Parameters:
    ///   - attempt: one try of the call (the route's generated `call`).
    ///   - deadline: the request's deadline; `options` must carry it too.
    ///   - record: told the number of attempts and the final status.
    /// - Throws: the last ``RPCError``, or a ``GatewayError`` 503 when the
    ///   circuit is open.
    func unary(
        policy: CallPolicy,
        deadline: ContinuousClock.Instant,
        record: RequestRecord,
        attempt: () async throws -> Data
    ) async throws -> Data {
        var attempts = 0
        budget.withLock { $0.recordFirstAttempt() }
        while true {
            let ticket = try admit()
            attempts += 1
            record.update { $0.attempts = attempts }
            do {
                let result = try await attempt()
                finish(ticket, error: nil, policy: policy)
                record.update { $0.upstreamStatus = "OK" }
                return result
            } catch {
                finish(ticket, error: error, policy: policy)
                guard let rpcError = error as? RPCError else { throw error }
                record.update { $0.upstreamStatus = rpcError.code.name }
                guard attempts < retry.maximumAttempts,
                      RetryPolicy.isRetryable(rpcError, idempotent: policy.idempotent) else { throw rpcError }
                let wait = retry.backoff(beforeRetry: attempts, random: Double.random(in: 0...1))
                // A retry must have time left to do anything once the wait is over.
                guard now() + wait + retry.initialBackoff < deadline, budget.withLock({ $0.withdraw() }) else {
                    throw rpcError
                }
                try await Task.sleep(for: wait)
            }
        }
    }

    /// Asks the breaker to let a call through.
    ///
    /// - Throws: 503 UNAVAILABLE with `Retry-After` when the circuit is open.
    func admit() throws(GatewayError) -> CircuitBreaker.Ticket {
        let permission = breaker.withLock { breaker in
            let permission = breaker.acquire(now: now())
            // Under the lock, so concurrent calls cannot leave a stale state.
            breakerGauge.record(Self.gaugeValue(of: breaker.state))
            return permission
        }
        switch permission {
        case .granted(let ticket):
            return ticket
        case .rejected(let retryAfter):
            throw .unavailable("the \(name) service is unavailable (circuit open); try again shortly", retryAfter: retryAfter)
        }
    }

    /// Tells the breaker how an admitted call ended (`error` nil: success).
    func finish(_ ticket: CircuitBreaker.Ticket, error: (any Error)?, policy: CallPolicy) {
        let outcome: CircuitBreaker.Outcome
        switch error {
        case nil:
            outcome = .success
        case let error as RPCError:
            if error.code == .deadlineExceeded && !policy.deadlinesAreUpstreamFailures {
                outcome = .ignored
            } else {
                outcome = CircuitBreaker.outcome(for: error.code)
            }
        default:
            // Cancelled by the caller, or a request the client could not encode: not the upstream's doing.
            outcome = .ignored
        }
        let now = now()
        breaker.withLock { breaker in
            breaker.record(outcome, for: ticket, now: now)
            breakerGauge.record(Self.gaugeValue(of: breaker.state))
        }
    }

    /// 0 closed, 1 half-open, 2 open: ordered by how bad it is, so a
    /// dashboard can alert on `> 0`.
    static func gaugeValue(of state: CircuitBreaker.State) -> Int {
        switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }
}
