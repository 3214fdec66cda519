import Synchronization

/// Facts about a request that inner layers learn and the outer access log
/// reports: who it acted for, which upstream it called, what that answered.
///
/// A reference shared by every copy of the request's context, since
/// Hummingbird passes contexts down by value and nothing comes back up but
/// the response.
public final class RequestRecord: Sendable {
    public struct Facts: Sendable, Hashable {
        /// The route template, `/api/users/{id}`.
        public var route: String?
        public var userID: String?
        /// The upstream's short name, `user`.
        public var upstream: String?
        /// The endpoint of the last attempt, `10.0.0.2:7002`.
        public var endpoint: String?
        /// The upstream's status name, `OK` or `NOT_FOUND`.
        public var upstreamStatus: String?
        /// Upstream attempts made (1 without retries).
        public var attempts: Int = 0
        /// Why a request failed with 500, for the log only.
        public var internalError: String?
    }

    private let facts = Mutex(Facts())

    public init() {}

    public var current: Facts { facts.withLock { $0 } }

    public func update(_ change: (inout Facts) -> Void) {
        facts.withLock { change(&$0) }
    }
}
