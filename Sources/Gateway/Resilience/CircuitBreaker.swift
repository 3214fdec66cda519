import FrameRPC

/// A circuit breaker for one upstream endpoint, as a pure state machine: it
/// holds no clock and no lock, and every transition takes `now`, so tests
/// drive it through time step by step. ``Upstream`` owns one per endpoint
/// behind a lock.
///
/// - **Closed**: calls go through; the outcomes of the last
///   ``Policy/windowSize`` calls are kept (a count-based sliding window).
///   Once the window holds at least ``Policy/minimumCalls`` outcomes and the
///   share of failures reaches ``Policy/failureRateThreshold``, it opens.
/// - **Open**: calls are refused without touching the network until
///   ``Policy/openDuration`` has passed; the refusal says how long is left
///   (the gateway's `Retry-After`).
/// - **Half-open**: up to ``Policy/halfOpenProbes`` calls at once go through
///   as probes. One failed probe opens the circuit again; that many
///   successful ones close it with an empty window.
///
/// Only outcomes that say the upstream is sick are failures
/// (``outcome(for:)``): UNAVAILABLE (connect failures included),
/// DEADLINE_EXCEEDED and INTERNAL. RESOURCE_EXHAUSTED is ignored: it is the
/// answer to our own excess concurrency (the server's per-connection limit,
/// or the client's full queue), which the gateway's concurrency limit
/// handles; counting it would turn a burst into an outage of our own making.
/// A NOT_FOUND or INVALID_ARGUMENT is an upstream answering well, so it
/// counts as a success.
///
/// Every permitted call gets a ``Ticket``; its outcome is recorded with that
/// ticket, and outcomes of calls started before the last transition are
/// ignored, so a slow call from an old period can neither reopen a circuit
/// that just closed nor use up a probe it never held.
public struct CircuitBreaker: Sendable {
    /// When the circuit opens and closes.
    public struct Policy: Sendable, Hashable {
        /// How many of the latest outcomes the closed circuit judges by.
        public var windowSize: Int
        /// The circuit never opens on fewer outcomes than this.
        public var minimumCalls: Int
        /// The share of failures (0...1] at which it opens.
        public var failureRateThreshold: Double
        /// How long it stays open before letting probes through.
        public var openDuration: Duration
        /// Probes at once when half open, and successes needed to close.
        public var halfOpenProbes: Int

        public init(
            windowSize: Int = 20,
            minimumCalls: Int = 10,
            failureRateThreshold: Double = 0.5,
            openDuration: Duration = .seconds(5),
            halfOpenProbes: Int = 3
        ) {
            self.windowSize = windowSize
            self.minimumCalls = minimumCalls
            self.failureRateThreshold = failureRateThreshold
            self.openDuration = openDuration
            self.halfOpenProbes = halfOpenProbes
        }

        var problems: [String] {
            var problems: [String] = []
            if windowSize < 1 { problems.append("the breaker window must hold at least 1 call") }
            if minimumCalls < 1 || minimumCalls > windowSize {
                problems.append("the breaker's minimum calls must be between 1 and the window size")
            }
            if !(failureRateThreshold > 0 && failureRateThreshold <= 1) {
                problems.append("the breaker's failure rate threshold must be in (0, 1]")
            }
            if openDuration <= .zero { problems.append("the breaker's open duration must be positive") }
            if halfOpenProbes < 1 { problems.append("the breaker needs at least 1 half-open probe") }
            return problems
        }
    }

    public enum State: Sendable, Hashable {
        case closed
        case open(until: ContinuousClock.Instant)
        case halfOpen

        /// `closed`, `open` or `half-open`, as `/health` shows it.
        public var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half-open"
            }
        }
    }

    /// What a finished call says about the upstream.
    public enum Outcome: Sendable, Hashable {
        case success
        case failure
        /// Neither: the call was cancelled by its caller or never reached
        /// the upstream through no fault of its own. It only frees its slot.
        case ignored
    }

    /// A permitted call's claim, given back with its outcome.
    public struct Ticket: Sendable, Hashable {
        let epoch: Int
        let isProbe: Bool
    }

    public enum Permission: Sendable, Hashable {
        case granted(Ticket)
        /// Refused; worth trying again after `retryAfter`.
        case rejected(retryAfter: Duration)
    }

    public let policy: Policy
    public private(set) var state: State = .closed

    /// Outcomes of the closed period, oldest first once full: `true` = failure.
    private var window: [Bool] = []
    private var nextSlot = 0
    private var failuresInWindow = 0
    /// Bumped at every transition; tickets of older epochs are ignored.
    private var epoch = 0
    private var probesInFlight = 0
    private var probeSuccesses = 0

    public init(policy: Policy) {
        self.policy = policy
    }

    /// The failure share of the current window (0 when empty).
    public var failureRate: Double {
        window.isEmpty ? 0 : Double(failuresInWindow) / Double(window.count)
    }

    /// Asks to make a call at `now`.
    public mutating func acquire(now: ContinuousClock.Instant) -> Permission {
        switch state {
        case .closed:
            return .granted(Ticket(epoch: epoch, isProbe: false))
        case .open(let until):
            guard now >= until else { return .rejected(retryAfter: until - now) }
            transition(to: .halfOpen)
            return acquire(now: now)
        case .halfOpen:
            guard probesInFlight < policy.halfOpenProbes else {
                // The probes are out; their outcome decides within about a call's time.
                return .rejected(retryAfter: .seconds(1))
            }
            probesInFlight += 1
            return .granted(Ticket(epoch: epoch, isProbe: true))
        }
    }

    /// Whether ``acquire(now:)`` would grant a call at `now`, without
    /// changing anything: how the balancer skips an endpoint whose circuit
    /// is open before it picks.
    public func admits(now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: true
        case .open(let until): now >= until
        case .halfOpen: probesInFlight < policy.halfOpenProbes
        }
    }

    /// How long until ``acquire(now:)`` may grant again (zero when it would
    /// grant now).
    public func retryAfter(now: ContinuousClock.Instant) -> Duration {
        guard !admits(now: now) else { return .zero }
        if case .open(let until) = state { return until - now }
        return .seconds(1)
    }

    /// Records how a permitted call ended.
    public mutating func record(_ outcome: Outcome, for ticket: Ticket, now: ContinuousClock.Instant) {
        guard ticket.epoch == epoch else { return }
        switch state {
        case .closed:
            guard outcome != .ignored else { return }
            remember(failure: outcome == .failure)
            if window.count >= policy.minimumCalls, failureRate >= policy.failureRateThreshold {
                transition(to: .open(until: now + policy.openDuration))
            }
        case .halfOpen:
            guard ticket.isProbe else { return }
            probesInFlight -= 1
            switch outcome {
            case .failure:
                transition(to: .open(until: now + policy.openDuration))
            case .success:
                probeSuccesses += 1
                if probeSuccesses >= policy.halfOpenProbes { transition(to: .closed) }
            case .ignored:
                break
            }
        case .open:
            break
        }
    }

    /// The outcome of a call that ended with `code` (`nil`: it succeeded).
    public static func outcome(for code: RPCError.Code?) -> Outcome {
        guard let code else { return .success }
        switch code {
        case .unavailable, .deadlineExceeded, .internal: return .failure
        case .cancelled, .resourceExhausted: return .ignored
        default: return .success
        }
    }

    private mutating func remember(failure: Bool) {
        if window.count < policy.windowSize {
            window.append(failure)
        } else {
            if window[nextSlot] { failuresInWindow -= 1 }
            window[nextSlot] = failure
            nextSlot = (nextSlot + 1) % policy.windowSize
        }
        if failure { failuresInWindow += 1 }
    }

    private mutating func transition(to newState: State) {
        state = newState
        epoch += 1
        window.removeAll(keepingCapacity: true)
        nextSlot = 0
        failuresInWindow = 0
        probesInFlight = 0
        probeSuccesses = 0
    }
}
