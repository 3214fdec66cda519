import Synchronization

/// A ``TokenBucket`` per key (a client address, an account), in bounded
/// memory.
///
/// At most ``maximumKeys`` buckets are kept. Making room first forgets
/// buckets that have refilled (they are the same as none); only if every
/// bucket is still draining are the least recently used quarter forgotten,
/// which gives those keys a fresh burst: the price of a bound that a flood
/// of keys cannot push the process's memory past. Floods of keys are
/// themselves limited where it matters: a login names one account per
/// attempt, and each attempt first takes a token from its address's bucket.
final class RateLimiter: Sendable {
    let policy: TokenBucket.Policy
    let maximumKeys: Int
    private let buckets = Mutex<[String: TokenBucket]>([:])

    init(policy: TokenBucket.Policy, maximumKeys: Int) {
        precondition(maximumKeys >= 1)
        self.policy = policy
        self.maximumKeys = maximumKeys
    }

    /// Takes a token from `key`'s bucket: `nil` when the attempt may go
    /// ahead, else how long until it may (the `Retry-After`).
    func take(_ key: String, now: ContinuousClock.Instant = .now) -> Duration? {
        let policy = policy
        let maximumKeys = maximumKeys
        return buckets.withLock { buckets in
            if buckets[key] == nil, buckets.count >= maximumKeys {
                Self.makeRoom(in: &buckets, now: now, policy: policy, maximumKeys: maximumKeys)
            }
            return buckets[key, default: TokenBucket(policy: policy, now: now)].take(now: now, policy: policy)
        }
    }

    /// Gives back the token of an attempt that should not count (a login
    /// that succeeded).
    func giveBack(_ key: String, now: ContinuousClock.Instant = .now) {
        let policy = policy
        buckets.withLock { buckets in
            buckets[key]?.giveBack(now: now, policy: policy)
        }
    }

    /// Buckets kept now.
    var trackedKeys: Int { buckets.withLock { $0.count } }

    private static func makeRoom(in buckets: inout [String: TokenBucket], now: ContinuousClock.Instant, policy: TokenBucket.Policy, maximumKeys: Int) {
        buckets = buckets.filter { !$0.value.isFull(now: now, policy: policy) }
        guard buckets.count >= maximumKeys else { return }
        let oldest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(max(1, buckets.count / 4))
        for (key, _) in oldest { buckets[key] = nil }
    }
}
