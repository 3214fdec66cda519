/// A token bucket: up to ``Policy/capacity`` tokens, refilled continuously
/// at ``Policy/refillPerMinute``; each attempt takes one. A burst of
/// `capacity` attempts is allowed at once, then attempts at the refill rate.
///
/// The bucket refills lazily from the time of its last update, so it costs
/// nothing while untouched, and a bucket that has refilled to capacity is
/// the same as no bucket at all (``isFull(now:policy:)``: what lets
/// ``RateLimiter`` forget it).
struct TokenBucket: Sendable, Hashable {
    struct Policy: Sendable, Hashable {
        /// Attempts allowed at once.
        var capacity: Int
        /// Tokens added per minute.
        var refillPerMinute: Int

        var problems: [String] {
            var problems: [String] = []
            if capacity < 1 { problems.append("a rate limit's burst must be at least 1") }
            if refillPerMinute < 1 { problems.append("a rate limit's refill must be at least 1 per minute") }
            return problems
        }

        /// Seconds one token takes to come back.
        var secondsPerToken: Double { 60 / Double(refillPerMinute) }
    }

    private(set) var tokens: Double
    private(set) var updated: ContinuousClock.Instant

    /// A full bucket.
    init(policy: Policy, now: ContinuousClock.Instant) {
        tokens = Double(policy.capacity)
        updated = now
    }

    /// Takes a token: `nil` when there was one, else how long until there is.
    mutating func take(now: ContinuousClock.Instant, policy: Policy) -> Duration? {
        refill(now: now, policy: policy)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return .seconds((1 - tokens) * policy.secondsPerToken)
    }

    /// Puts back a token taken for an attempt that turned out not to count.
    mutating func giveBack(now: ContinuousClock.Instant, policy: Policy) {
        refill(now: now, policy: policy)
        tokens = min(Double(policy.capacity), tokens + 1)
    }

    /// Whether the bucket has refilled to capacity by `now`.
    func isFull(now: ContinuousClock.Instant, policy: Policy) -> Bool {
        var copy = self
        copy.refill(now: now, policy: policy)
        return copy.tokens >= Double(policy.capacity)
    }

    private mutating func refill(now: ContinuousClock.Instant, policy: Policy) {
        guard now > updated else { return }
        let elapsed = now - updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(Double(policy.capacity), tokens + seconds / policy.secondsPerToken)
        updated = now
    }
}
