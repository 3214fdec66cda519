import Synchronization

/// How many Server-Sent Events streams may be open: per user and in all.
///
/// Why: every stream holds one call on the gateway's connection to the
/// upstream for as long as it is open, and a connection carries a bounded
/// number of calls (FrameRPC's 256 by default). Without a budget of their
/// own, one account opening a few hundred streams takes every call slot,
/// and every other route of that service, `/health`'s check included,
/// fails. The defaults (4 per user, 100 in all) keep streams well below
/// the upstream's limit, so unary calls and health checks always find room.
/// Beyond either cap a stream is refused with 429 and `Retry-After`.
final class StreamBudget: Sendable {
    struct Policy: Sendable, Hashable {
        var perUser: Int = 4
        var total: Int = 100

        var problems: [String] {
            var problems: [String] = []
            if perUser < 1 { problems.append("the streams per user must be at least 1") }
            if total < 1 { problems.append("the streams in all must be at least 1") }
            if perUser > total { problems.append("the streams per user must not exceed the streams in all") }
            return problems
        }
    }

    /// How long a refused client is told to wait: streams last long, so
    /// retrying at once is pointless.
    static let retryAfter: Duration = .seconds(5)

    let policy: Policy
    private let state = Mutex(State())

    private struct State {
        var total = 0
        var byUser: [String: Int] = [:]
    }

    init(policy: Policy) {
        self.policy = policy
    }

    /// A stream's place in the budget, given back by ``Lease/release()``
    /// (or when the lease goes away).
    final class Lease: Sendable {
        private let budget: StreamBudget
        private let user: String
        private let released = Atomic<Bool>(false)

        fileprivate init(budget: StreamBudget, user: String) {
            self.budget = budget
            self.user = user
        }

        func release() {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            budget.give(user)
        }

        deinit {
            release()
        }
    }

    /// Takes a place for a stream of `user` (a user id, or the client's
    /// address for a caller without one).
    ///
    /// - Throws: 429 RESOURCE_EXHAUSTED with `Retry-After` when the user
    ///   has ``Policy/perUser`` streams open, or all users ``Policy/total``.
    func acquire(user: String) throws(GatewayError) -> Lease {
        let policy = policy
        let refusal = state.withLock { state -> GatewayError? in
            if state.byUser[user, default: 0] >= policy.perUser {
                return .tooManyRequests("at most \(policy.perUser) event streams may be open per user; close one first", retryAfter: Self.retryAfter)
            }
            if state.total >= policy.total {
                return .tooManyRequests("the gateway has \(policy.total) event streams open, its limit; try again later", retryAfter: Self.retryAfter)
            }
            state.total += 1
            state.byUser[user, default: 0] += 1
            return nil
        }
        if let refusal { throw refusal }
        return Lease(budget: self, user: user)
    }

    /// Streams open now, in all.
    var open: Int { state.withLock { $0.total } }

    private func give(_ user: String) {
        state.withLock { state in
            state.total -= 1
            let left = state.byUser[user, default: 1] - 1
            state.byUser[user] = left > 0 ? left : nil
        }
    }
}
