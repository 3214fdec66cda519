import CoreMetrics
import FrameRPC
import Foundation
import Logging
import ShopObservability
import Synchronization

/// One upstream service as the gateway sees it: its FrameRPC client
/// (balanced across the service's endpoints), a circuit breaker per
/// endpoint, and one retry budget. Every route of that service calls
/// through here.
///
/// A call goes to an endpoint the client picks (power of two random choices
/// on calls in flight) among those whose breaker admits it, so an endpoint
/// whose circuit is open, or whose connection failed, is skipped until it
/// recovers; only when every endpoint's circuit is open does the call fail
/// with 503 without touching the network. Each attempt's outcome goes to its
/// endpoint's breaker. A call is tried again only when ``RetryPolicy`` says
/// it is safe, the deadline leaves room for the wait and the budget has a
/// retry to spend; the retry goes to another endpoint when there is one.
///
/// Before any of that, a unary call takes a slot of the upstream's
/// ``AdaptiveConcurrencyLimit`` (a limit that follows the service's
/// latency); with none free it is shed at once with 503 and `Retry-After`,
/// counted in `gateway_requests_shed_total{upstream,reason="concurrency_limit"}`,
/// and never reaches the client's queue or the breaker. The limit is the
/// gauge `gateway_upstream_concurrency_limit{upstream}`.
///
/// Breakers see only sickness: RESOURCE_EXHAUSTED (the upstream's or the
/// client's own queue refusing our excess), a deadline that passed while the
/// call still waited in the client for a slot, and shed calls never count.
///
/// The service's circuit summed over its endpoints is the gauge
/// `gateway_circuit_breaker_state{upstream}` (0 closed, 1 half-open,
/// 2 open), set whenever a call asks or finishes.
public final class Upstream: Sendable {
    /// The short name, `user`.
    public let name: String
    /// The full name, `shop.user.v1.UserService`.
    public let serviceName: String
    public let client: RPCClient
    private let breakerPolicy: CircuitBreaker.Policy
    /// By endpoint address, made on first use. An address that left a DNS
    /// answer keeps its entry (few, and it may come back).
    private let breakers = Mutex<[RPCAddress: CircuitBreaker]>([:])
    private let budget: Mutex<RetryBudget>
    private let retry: RetryPolicy
    private let streams = Atomic<Int>(0)
    private let breakerGauge: Gauge
    private let concurrency: Mutex<AdaptiveConcurrencyLimit>
    private let shedCounter: Counter
    private let limitGauge: Gauge
    private let now: @Sendable () -> ContinuousClock.Instant

    init(
        name: String,
        serviceName: String,
        client: RPCClient,
        breaker: CircuitBreaker.Policy,
        retry: RetryPolicy,
        concurrency: AdaptiveConcurrencyLimit.Policy = AdaptiveConcurrencyLimit.Policy(),
        metrics: MetricsRegistry = .shared,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.breakerGauge = Gauge(label: "gateway_circuit_breaker_state", dimensions: [("upstream", name)], factory: metrics.factory)
        self.breakerGauge.record(0)
        self.concurrency = Mutex(AdaptiveConcurrencyLimit(policy: concurrency))
        self.shedCounter = Counter(
            label: "gateway_requests_shed_total",
            dimensions: [("upstream", name), ("reason", "concurrency_limit")],
            factory: metrics.factory
        )
        self.limitGauge = Gauge(label: "gateway_upstream_concurrency_limit", dimensions: [("upstream", name)], factory: metrics.factory)
        self.limitGauge.record(concurrency.initialLimit)
        self.name = name
        self.serviceName = serviceName
        self.client = client
        self.breakerPolicy = breaker
        self.budget = Mutex(RetryBudget(ratio: retry.budgetRatio, reserve: retry.budgetReserve))
        self.retry = retry
        self.now = now
    }

    /// The service's circuit, summing up its endpoints': `closed` while any
    /// endpoint's is, else `half-open` while any is, else `open` until the
    /// first reopens (`open` turns `half-open` only when a call asks).
    public var circuitState: CircuitBreaker.State {
        let states = endpointCircuits.map(\.state)
        if states.isEmpty || states.contains(.closed) { return .closed }
        if states.contains(.halfOpen) { return .halfOpen }
        let until = states.compactMap { state -> ContinuousClock.Instant? in
            if case .open(let until) = state { return until }
            return nil
        }.min()
        return until.map { .open(until: $0) } ?? .closed
    }

    /// Each current endpoint's circuit, in the client's order.
    public var endpointCircuits: [(address: RPCAddress, state: CircuitBreaker.State)] {
        let addresses = client.endpoints.map(\.address)
        return breakers.withLock { breakers in
            addresses.map { ($0, breakers[$0]?.state ?? .closed) }
        }
    }

    /// The adaptive concurrency limit now, and the unary calls holding a slot.
    public var concurrencyLimit: (limit: Int, inFlight: Int) {
        concurrency.withLock { ($0.limit, $0.inFlight) }
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
        /// Calls bounded by an admission of their own (password hashing:
        /// ``PasswordRouteGuard``) pass by the adaptive concurrency limit and
        /// teach it nothing: their latency is the deliberate cost of a KDF,
        /// not the upstream's load, and letting it shrink the limit would
        /// shed the service's cheap reads while logins run.
        var hasOwnAdmission = false
    }

    /// One call let through to one endpoint: where it goes, and the
    /// breaker's ticket its outcome is recorded with.
    struct Admission: Sendable {
        let endpoint: RPCClient.Endpoint
        let ticket: CircuitBreaker.Ticket
    }

    /// Makes a unary call with the breakers, balancing and retries.
    ///
    /// - Parameters:
    ///   - attempt: one try of the call (the route's generated invocation),
    ///     through the client of the endpoint picked for it.
    ///   - deadline: the request's deadline; `options` must carry it too.
    ///   - record: told the number of attempts, the endpoint and the final status.
    /// - Throws: the last ``RPCError``, or a ``GatewayError`` 503 when the
    ///   circuit of every endpoint is open.
    func unary<Output>(
        policy: CallPolicy,
        deadline: ContinuousClock.Instant,
        record: RequestRecord,
        attempt: (RPCClient) async throws -> Output
    ) async throws -> Output {
        let limited = !policy.hasOwnAdmission
        guard !limited || concurrency.withLock({ $0.tryAcquire() }) else {
            shedCounter.increment()
            record.update { $0.upstreamStatus = "SHED" }
            throw GatewayError.unavailable("the \(name) service is at its concurrency limit; try again shortly", retryAfter: .seconds(1))
        }
        var sample = AdaptiveConcurrencyLimit.Sample.ignored
        defer { if limited { releaseSlot(sample) } }
        var attempts = 0
        var tried: [RPCAddress] = []
        budget.withLock { $0.recordFirstAttempt() }
        while true {
            let admission = try await admit(avoiding: tried)
            attempts += 1
            record.update {
                $0.attempts = attempts
                $0.endpoint = admission.endpoint.address.description
            }
            let started = now()
            do {
                let result = try await attempt(admission.endpoint.client)
                finish(admission, error: nil, policy: policy)
                sample = .answered(latency: now() - started)
                record.update { $0.upstreamStatus = "OK" }
                return result
            } catch {
                finish(admission, error: error, policy: policy)
                sample = Self.sample(for: error, latency: now() - started, policy: policy)
                guard let rpcError = error as? RPCError else { throw error }
                record.update { $0.upstreamStatus = rpcError.code.name }
                guard attempts < retry.maximumAttempts,
                      RetryPolicy.isRetryable(rpcError, idempotent: policy.idempotent) else { throw rpcError }
                let wait = retry.backoff(beforeRetry: attempts, random: Double.random(in: 0...1))
                // A retry must have time left to do anything once the wait is over.
                guard now() + wait + retry.initialBackoff < deadline, budget.withLock({ $0.withdraw() }) else {
                    throw rpcError
                }
                tried.append(admission.endpoint.address)
                try await Task.sleep(for: wait)
            }
        }
    }

    private func releaseSlot(_ sample: AdaptiveConcurrencyLimit.Sample) {
        let now = now()
        let limit = concurrency.withLock { limiter in
            limiter.release(sample, now: now)
            return limiter.limit
        }
        limitGauge.record(limit)
    }

    /// What a failed attempt tells the concurrency limiter: the upstream's
    /// own verdict on a request is an answer with a latency like a success;
    /// refusal for load, or a deadline missed there (not one the caller
    /// chose), says it is overloaded; the rest says nothing about its load.
    static func sample(for error: any Error, latency: Duration, policy: CallPolicy) -> AdaptiveConcurrencyLimit.Sample {
        guard let error = error as? RPCError else { return .ignored }
        switch error.code {
        case .resourceExhausted:
            return .dropped
        case .deadlineExceeded:
            return policy.deadlinesAreUpstreamFailures ? .dropped : .ignored
        case .unavailable, .cancelled, .internal, .unknown:
            return .ignored
        default:
            return .answered(latency: latency)
        }
    }

    /// ``unary(policy:deadline:record:attempt:)`` for an attempt that does
    /// not need the endpoint's client.
    func unary<Output>(
        policy: CallPolicy,
        deadline: ContinuousClock.Instant,
        record: RequestRecord,
        attempt: () async throws -> Output
    ) async throws -> Output {
        try await unary(policy: policy, deadline: deadline, record: record) { (_: RPCClient) in try await attempt() }
    }

    /// Picks an endpoint whose breaker lets a call through, and takes its
    /// ticket.
    ///
    /// - Parameter tried: endpoints this call already failed on; another
    ///   is preferred while one is admitted.
    /// - Throws: 503 UNAVAILABLE with `Retry-After` when every endpoint's
    ///   circuit is open; the client's UNAVAILABLE when it has no endpoint
    ///   (a DNS name without addresses).
    func admit(avoiding tried: [RPCAddress] = []) async throws -> Admission {
        var refused: [RPCAddress] = []
        while true {
            let now = now()
            let policy = breakerPolicy
            let picked = try await client.pickEndpoint(avoiding: tried) { address in
                !refused.contains(address) && breakers.withLock { $0[address]?.admits(now: now) ?? true }
            }
            guard let endpoint = picked else {
                let addresses = client.endpoints.map(\.address)
                let retryAfter = breakers.withLock { breakers in
                    addresses.compactMap { breakers[$0]?.retryAfter(now: now) }.filter { $0 > .zero }.min()
                } ?? .seconds(1)
                throw GatewayError.unavailable("the \(name) service is unavailable (circuit open); try again shortly", retryAfter: retryAfter)
            }
            let permission = breakers.withLock { breakers in
                let permission = breakers[endpoint.address, default: CircuitBreaker(policy: policy)].acquire(now: now)
                // Under the lock, so concurrent calls cannot leave a stale state.
                breakerGauge.record(Self.gaugeValue(of: breakers.values))
                return permission
            }
            switch permission {
            case .granted(let ticket):
                return Admission(endpoint: endpoint, ticket: ticket)
            case .rejected:
                // Its last probe slot went to another call meanwhile.
                refused.append(endpoint.address)
            }
        }
    }

    /// Tells the endpoint's breaker how an admitted call ended (`error` nil: success).
    func finish(_ admission: Admission, error: (any Error)?, policy: CallPolicy) {
        let outcome: CircuitBreaker.Outcome
        switch error {
        case nil:
            outcome = .success
        case let error as RPCError:
            if error.code == .deadlineExceeded && (!policy.deadlinesAreUpstreamFailures || error.neverProcessed) {
                // The caller's own short deadline, or one that passed while
                // the call waited in our client for a slot: not the upstream's doing.
                outcome = .ignored
            } else {
                outcome = CircuitBreaker.outcome(for: error.code)
            }
        default:
            // Cancelled by the caller, or a request the client could not encode: not the upstream's doing.
            outcome = .ignored
        }
        let now = now()
        breakers.withLock { breakers in
            breakers[admission.endpoint.address]?.record(outcome, for: admission.ticket, now: now)
            breakerGauge.record(Self.gaugeValue(of: breakers.values))
        }
    }

    /// 0 while any endpoint's circuit is closed (or none was used yet), else
    /// 1 while any is half-open, else 2: ordered by how bad it is, so a
    /// dashboard can alert on `> 0`.
    static func gaugeValue(of breakers: Dictionary<RPCAddress, CircuitBreaker>.Values) -> Int {
        // Runs under the lock on every call: one pass, no array built.
        var anyHalfOpen = false
        for breaker in breakers {
            switch breaker.state {
            case .closed: return 0
            case .halfOpen: anyHalfOpen = true
            case .open: break
            }
        }
        return breakers.isEmpty ? 0 : (anyHalfOpen ? 1 : 2)
    }
}
