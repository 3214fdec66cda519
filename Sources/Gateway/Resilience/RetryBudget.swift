/// How many retries an upstream may still be sent, so that retries cannot
/// multiply the load on a service that is already failing.
///
/// A token bucket: each first attempt earns ``RetryPolicy/budgetRatio`` of a
/// retry, each retry spends one whole token, and the balance never exceeds
/// ``RetryPolicy/budgetReserve`` (which is also the starting balance). With
/// the defaults, in steady state at most one call in five is retried; in an
/// outage the reserve is spent and then retries stop. A pure value: the
/// caller holds it behind a lock.
public struct RetryBudget: Sendable, Hashable {
    public let ratio: Double
    public let maximum: Double
    public private(set) var balance: Double

    public init(ratio: Double, reserve: Double) {
        self.ratio = ratio
        self.maximum = reserve
        self.balance = reserve
    }

    /// A first attempt was made: it earns a share of a retry.
    public mutating func recordFirstAttempt() {
        balance = min(maximum, balance + ratio)
    }

    /// Spends one retry if there is one.
    public mutating func withdraw() -> Bool {
        guard balance >= 1 else { return false }
        balance -= 1
        return true
    }
}
