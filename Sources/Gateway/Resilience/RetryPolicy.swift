import Foundation
import FrameRPC

/// When a failed upstream call is tried again, and after how long.
///
/// A call is tried again only when that cannot do anything twice: the
/// server never started it (``RPCError/neverProcessed``, whatever the
/// method), or the method is marked idempotent and the upstream answered
/// UNAVAILABLE. Waits grow exponentially with "equal jitter" (half the step
/// fixed, half random) so that many gateways do not retry in step; a retry
/// that would not finish before the request's deadline is not made, and
/// every retry spends from the upstream's ``RetryBudget``.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per call, the first one included (1 disables retries).
    public var maximumAttempts: Int
    /// The wait before the first retry, before jitter.
    public var initialBackoff: Duration
    /// No wait is longer than this.
    public var maximumBackoff: Duration
    public var multiplier: Double
    /// Retries earned per first attempt (0.2: at most one retry for five calls).
    public var budgetRatio: Double
    /// Retries available before any call has earned one, and the most the
    /// budget ever holds.
    public var budgetReserve: Double

    public init(
        maximumAttempts: Int = 3,
        initialBackoff: Duration = .milliseconds(25),
        maximumBackoff: Duration = .milliseconds(500),
        multiplier: Double = 2,
        budgetRatio: Double = 0.2,
        budgetReserve: Double = 10
    ) {
        self.maximumAttempts = maximumAttempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.multiplier = multiplier
        self.budgetRatio = budgetRatio
        self.budgetReserve = budgetReserve
    }

    var problems: [String] {
        var problems: [String] = []
        if maximumAttempts < 1 { problems.append("retries need at least 1 attempt") }
        if initialBackoff < .zero || maximumBackoff < initialBackoff { problems.append("retry backoffs must satisfy 0 <= initial <= maximum") }
        if multiplier < 1 { problems.append("the retry backoff multiplier must be at least 1") }
        if budgetRatio < 0 || budgetReserve < 0 { problems.append("the retry budget must not be negative") }
        return problems
    }

    /// Whether a call that failed with `error` may be sent again.
    public static func isRetryable(_ error: RPCError, idempotent: Bool) -> Bool {
        if error.neverProcessed { return true }
        return idempotent && error.code == .unavailable
    }

    /// The wait before retry number `retry` (1 for the first), given a
    /// `random` number in 0...1.
    public func backoff(beforeRetry retry: Int, random: Double) -> Duration {
        let exponent = Double(max(0, retry - 1))
        var step = initialBackoff * pow(multiplier, exponent)
        if step > maximumBackoff { step = maximumBackoff }
        let unit = min(max(random, 0), 1)
        return step / 2 + (step / 2) * unit
    }
}
