@testable import Gateway
import Testing

/// The gradient limiter as a pure value, on a fake clock: each test says
/// what a call took and when it ended.
@Suite("Adaptive concurrency limit")
struct AdaptiveConcurrencyLimitTests {
    static let policy = AdaptiveConcurrencyLimit.Policy(initialLimit: 20, minimumLimit: 4, maximumLimit: 200, baselineWindow: .seconds(30), shortWindow: 5)

    /// The fake clock: one call ends every millisecond.
    final class Clock {
        var now = ContinuousClock.now
        func tick() -> ContinuousClock.Instant {
            now = now.advanced(by: .milliseconds(1))
            return now
        }
    }

    /// Keeps as many calls in flight as the limit allows (up to
    /// `concurrency`), each answering after `latency`, for `samples` calls.
    func drive(_ limiter: inout AdaptiveConcurrencyLimit, _ clock: Clock, concurrency: Int = 1_000, latency: Duration, samples: Int) {
        while limiter.inFlight < concurrency, limiter.tryAcquire() {}
        for _ in 0..<samples {
            limiter.release(.answered(latency: latency), now: clock.tick())
            while limiter.inFlight < concurrency, limiter.tryAcquire() {}
        }
    }

    @Test("it admits up to its limit, refuses the next at once, and frees a slot on release")
    func admitsUpToLimit() {
        var limiter = AdaptiveConcurrencyLimit(policy: Self.policy)
        for _ in 0..<20 { do { let result = limiter.tryAcquire(); #expect(result) } }
        do { let result = limiter.tryAcquire(); #expect(!result) }
        #expect(limiter.inFlight == 20)
        limiter.release(.ignored, now: .now)
        do { let result = limiter.tryAcquire(); #expect(result) }
    }

    @Test("at steady latency under load the limit grows, up to the maximum")
    func growsWhileLatencyHolds() {
        var limiter = AdaptiveConcurrencyLimit(policy: Self.policy)
        drive(&limiter, Clock(), latency: .milliseconds(5), samples: 2_000)
        #expect(limiter.limit == 200)
    }

    @Test("when latency rises well past the baseline the limit shrinks")
    func shrinksWhenLatencyRises() {
        var limiter = AdaptiveConcurrencyLimit(policy: Self.policy)
        let clock = Clock()
        drive(&limiter, clock, latency: .milliseconds(5), samples: 300)
        let grown = limiter.limit
        #expect(grown > 20)
        drive(&limiter, clock, latency: .milliseconds(50), samples: 30)
        #expect(limiter.limit < grown / 2, "limit \(limiter.limit) after growing to \(grown)")
        #expect(limiter.limit >= 4)
    }

    @Test("an idle upstream's limit does not grow (fewer than half the limit in flight)")
    func idleDoesNotGrow() {
        var limiter = AdaptiveConcurrencyLimit(policy: Self.policy)
        let clock = Clock()
        for _ in 0..<500 {
            do { let result = limiter.tryAcquire(); #expect(result) }
            limiter.release(.answered(latency: .milliseconds(5)), now: clock.tick())
        }
        #expect(limiter.limit == 20)
    }

    @Test("a call dropped for load shrinks the limit, never below the minimum")
    func dropsShrink() {
        var limiter = AdaptiveConcurrencyLimit(policy: Self.policy)
        _ = limiter.tryAcquire()
        limiter.release(.dropped, now: .now)
        #expect(limiter.limit == 18)
        for _ in 0..<100 {
            _ = limiter.tryAcquire()
            limiter.release(.dropped, now: .now)
        }
        #expect(limiter.limit == 4)
    }

    @Test("after an overload ends, the limit recovers")
    func recoversAfterOverload() {
        var limiter = AdaptiveConcurrencyLimit(policy: Self.policy)
        let clock = Clock()
        drive(&limiter, clock, latency: .milliseconds(5), samples: 200)
        drive(&limiter, clock, latency: .milliseconds(200), samples: 100)
        let low = limiter.limit
        #expect(low < 20)
        drive(&limiter, clock, latency: .milliseconds(5), samples: 500)
        #expect(limiter.limit > low * 2, "stuck at \(limiter.limit) after falling to \(low)")
    }

    @Test("a lasting overload keeps the limit down for as long as latency stays high")
    func staysDownWhileLatencyIsHigh() {
        var limiter = AdaptiveConcurrencyLimit(policy: Self.policy)
        let clock = Clock()
        drive(&limiter, clock, latency: .milliseconds(5), samples: 1_000)
        // Five seconds of calls ten times slower, at a thousand a second.
        drive(&limiter, clock, latency: .milliseconds(50), samples: 5_000)
        #expect(limiter.limit <= 10, "limit \(limiter.limit)")
    }

    @Test("the default policy and bad policies are judged")
    func policyProblems() {
        #expect(AdaptiveConcurrencyLimit.Policy().problems.isEmpty)
        #expect(!AdaptiveConcurrencyLimit.Policy(initialLimit: 1, minimumLimit: 2).problems.isEmpty)
        #expect(!AdaptiveConcurrencyLimit.Policy(minimumLimit: 10, maximumLimit: 5).problems.isEmpty)
        #expect(!AdaptiveConcurrencyLimit.Policy(dropFactor: 1).problems.isEmpty)
    }
}
