extension RPCClient {
    /// Where one endpoint's connection stands.
    public enum Connectivity: Sendable, Hashable {
        /// No connection; the next call opens one.
        case idle
        case connecting
        case ready
        /// The last connect failed; calls skip this endpoint (or, with no
        /// other, fail fast) until the wait is over.
        case backingOff(retryIn: Duration)
        case shutDown

        /// `idle`, `connecting`, `ready`, `backing-off`, `shut-down`.
        public var name: String {
            switch self {
            case .idle: "idle"
            case .connecting: "connecting"
            case .ready: "ready"
            case .backingOff: "backing-off"
            case .shutDown: "shut-down"
            }
        }
    }

    /// One endpoint of a client, for callers that choose endpoints
    /// themselves: a gateway with a circuit breaker per endpoint, a health
    /// report per endpoint, a test that counts.
    public struct Endpoint: Sendable {
        let subchannel: Subchannel
        private let parent: RPCClient

        init(_ subchannel: Subchannel, of parent: RPCClient) {
            self.subchannel = subchannel
            self.parent = parent
        }

        public var address: RPCAddress { subchannel.address }
        /// Calls in flight on it now, through any client.
        public var callsInFlight: Int { subchannel.load }
        public var connectivity: Connectivity { subchannel.connectivity }

        /// A client that sends every call to this endpoint only, sharing its
        /// connection and its count of calls in flight with the client it
        /// came from (and that client's configuration and interceptors). A
        /// never-sent call is resent at most once, here. Its `shutdown()`
        /// does nothing: shut the client it came from down instead.
        public var client: RPCClient { RPCClient(endpoint: subchannel, of: parent) }
    }

    /// The endpoints now: the target's addresses, or the last answer for a
    /// DNS name (empty before the first).
    public var endpoints: [Endpoint] {
        balancer.snapshot.map { Endpoint($0, of: self) }
    }

    /// The endpoint the next call would go to, picked as the client picks
    /// (power of two random choices on calls in flight among endpoints not
    /// backing off, the least bad when all are), among those `allowed`
    /// admits, preferring ones not in `avoiding` while another will do.
    ///
    /// The pick is not counted as a call: calls through the endpoint's
    /// ``Endpoint/client`` are.
    ///
    /// - Returns: `nil` when `allowed` admits none.
    /// - Throws: UNAVAILABLE when a DNS name has no address yet, or the
    ///   client is shut down.
    public func pickEndpoint(
        avoiding: [RPCAddress] = [],
        where allowed: (RPCAddress) -> Bool = { _ in true }
    ) async throws -> Endpoint? {
        let avoided = avoiding.isEmpty ? [] : balancer.snapshot.filter { avoiding.contains($0.address) }
        return try await balancer.pick(avoiding: avoided) { allowed($0.address) }.map { Endpoint($0, of: self) }
    }
}
