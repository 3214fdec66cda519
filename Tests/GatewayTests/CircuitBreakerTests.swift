import FrameRPC
@testable import Gateway
import Testing

/// The breaker as a pure state machine, driven through time by hand.
@Suite("Circuit breaker state machine")
struct CircuitBreakerTests {
    let start = ContinuousClock.now
    let policy = CircuitBreaker.Policy(windowSize: 10, minimumCalls: 4, failureRateThreshold: 0.5, openDuration: .seconds(5), halfOpenProbes: 2)

    /// Makes one call at `now` that ends with `outcome`.
    func call(_ breaker: inout CircuitBreaker, _ outcome: CircuitBreaker.Outcome, at now: ContinuousClock.Instant) -> Bool {
        guard case .granted(let ticket) = breaker.acquire(now: now) else { return false }
        breaker.record(outcome, for: ticket, now: now)
        return true
    }

    @Test("a new breaker is closed and lets calls through")
    func startsClosed() {
        var breaker = CircuitBreaker(policy: policy)
        #expect(breaker.state == .closed)
        #expect(call(&breaker, .success, at: start))
    }

    @Test("failures below the minimum number of calls do not open it")
    func minimumCalls() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<3 { #expect(call(&breaker, .failure, at: start)) }
        #expect(breaker.state == .closed)
    }

    @Test("it opens once the failure rate reaches the threshold after the minimum calls")
    func opensAtThreshold() {
        var breaker = CircuitBreaker(policy: policy)
        #expect(call(&breaker, .success, at: start))
        #expect(call(&breaker, .success, at: start))
        #expect(call(&breaker, .failure, at: start))
        #expect(breaker.state == .closed)
        #expect(call(&breaker, .failure, at: start))
        #expect(breaker.state == .open(until: start + .seconds(5)))
    }

    @Test("a failure rate under the threshold keeps it closed")
    func underThreshold() {
        var breaker = CircuitBreaker(policy: policy)
        for index in 0..<10 { #expect(call(&breaker, index % 3 == 2 ? .failure : .success, at: start)) }
        #expect(breaker.state == .closed)
        #expect(breaker.failureRate == 0.3)
    }

    @Test("the window slides: old failures are forgotten as new calls come in")
    func slidingWindow() {
        var breaker = CircuitBreaker(policy: CircuitBreaker.Policy(windowSize: 4, minimumCalls: 4, failureRateThreshold: 0.75, openDuration: .seconds(5), halfOpenProbes: 1))
        for outcome in [CircuitBreaker.Outcome.failure, .failure, .success, .success, .success] {
            #expect(call(&breaker, outcome, at: start))
        }
        #expect(breaker.failureRate == 0.25)
        #expect(call(&breaker, .failure, at: start))
        #expect(call(&breaker, .failure, at: start))
        #expect(breaker.state == .closed)
        #expect(call(&breaker, .failure, at: start))
        #expect(breaker.state != .closed)
    }

    @Test("an open breaker refuses calls and says how long until it will try again")
    func openRefuses() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<4 { _ = call(&breaker, .failure, at: start) }
        #expect(breaker.acquire(now: start + .seconds(2)) == .rejected(retryAfter: .seconds(3)))
    }

    @Test("after the open duration it lets a limited number of probes through")
    func halfOpenProbes() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<4 { _ = call(&breaker, .failure, at: start) }
        let later = start + .seconds(5)
        guard case .granted = breaker.acquire(now: later) else { Issue.record("first probe refused"); return }
        #expect(breaker.state == .halfOpen)
        guard case .granted = breaker.acquire(now: later) else { Issue.record("second probe refused"); return }
        guard case .rejected = breaker.acquire(now: later) else { Issue.record("a third probe went through"); return }
    }

    @Test("successful probes close it with an empty window")
    func probesClose() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<4 { _ = call(&breaker, .failure, at: start) }
        let later = start + .seconds(6)
        #expect(call(&breaker, .success, at: later))
        #expect(breaker.state == .halfOpen)
        #expect(call(&breaker, .success, at: later))
        #expect(breaker.state == .closed)
        #expect(breaker.failureRate == 0)
    }

    @Test("a failed probe opens it again for another full period")
    func probeFailureReopens() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<4 { _ = call(&breaker, .failure, at: start) }
        let later = start + .seconds(7)
        #expect(call(&breaker, .failure, at: later))
        #expect(breaker.state == .open(until: later + .seconds(5)))
    }

    @Test("an ignored probe frees its slot without deciding anything")
    func ignoredProbe() {
        var breaker = CircuitBreaker(policy: CircuitBreaker.Policy(windowSize: 4, minimumCalls: 1, failureRateThreshold: 1, openDuration: .seconds(1), halfOpenProbes: 1))
        _ = call(&breaker, .failure, at: start)
        let later = start + .seconds(1)
        #expect(call(&breaker, .ignored, at: later))
        #expect(breaker.state == .halfOpen)
        #expect(call(&breaker, .success, at: later))
        #expect(breaker.state == .closed)
    }

    @Test("the outcome of a call started before a transition is ignored")
    func staleTicket() {
        var breaker = CircuitBreaker(policy: CircuitBreaker.Policy(windowSize: 4, minimumCalls: 1, failureRateThreshold: 1, openDuration: .seconds(1), halfOpenProbes: 1))
        guard case .granted(let slow) = breaker.acquire(now: start) else { Issue.record("refused"); return }
        _ = call(&breaker, .failure, at: start)
        #expect(call(&breaker, .success, at: start + .seconds(1)))
        #expect(breaker.state == .closed)
        breaker.record(.failure, for: slow, now: start + .seconds(2))
        #expect(breaker.state == .closed)
    }

    @Test("only UNAVAILABLE, DEADLINE_EXCEEDED and INTERNAL are failures; RESOURCE_EXHAUSTED is ignored")
    func failureCodes() {
        #expect(CircuitBreaker.outcome(for: .resourceExhausted) == .ignored)
        let failures: [RPCError.Code] = [.unavailable, .deadlineExceeded, .internal]
        for code in failures { #expect(CircuitBreaker.outcome(for: code) == .failure) }
        let answers: [RPCError.Code] = [.invalidArgument, .notFound, .alreadyExists, .permissionDenied, .failedPrecondition, .aborted, .unauthenticated, .unimplemented]
        for code in answers { #expect(CircuitBreaker.outcome(for: code) == .success) }
        #expect(CircuitBreaker.outcome(for: .cancelled) == .ignored)
        #expect(CircuitBreaker.outcome(for: nil) == .success)
    }

    @Test("RESOURCE_EXHAUSTED, the answer to our own excess concurrency, is ignored and never opens it")
    func resourceExhaustedIsIgnored() {
        #expect(CircuitBreaker.outcome(for: .resourceExhausted) == .ignored)
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<40 { #expect(call(&breaker, CircuitBreaker.outcome(for: .resourceExhausted), at: start)) }
        #expect(breaker.state == .closed)
        #expect(breaker.failureRate == 0)
    }

    @Test("caller errors such as NOT_FOUND never open it")
    func callerErrorsKeepItClosed() {
        var breaker = CircuitBreaker(policy: policy)
        for _ in 0..<20 { #expect(call(&breaker, CircuitBreaker.outcome(for: .notFound), at: start)) }
        #expect(breaker.state == .closed)
    }
}
