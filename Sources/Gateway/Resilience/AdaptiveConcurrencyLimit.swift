/// How many calls the gateway lets through to one upstream at once, a limit
/// that follows the upstream's measured latency: a gradient limiter in the
/// spirit of Netflix's concurrency-limits (Gradient2).
///
/// It keeps two moving averages of call latency: a long one over time
/// (``Policy/baselineWindow``, 30 s: whatever the request rate, a burst of a
/// few seconds hardly moves it), the baseline of the upstream at ease, and a
/// short one over the last ``Policy/shortWindow`` calls, how it does now.
/// While the short one stays within ``Policy/tolerance`` times the baseline the limit
/// grows (by about the square root of itself per sample, smoothed); when
/// latency rises past that, the limit shrinks in proportion, never by more
/// than half per step; a call the upstream refused for load
/// (RESOURCE_EXHAUSTED) or that missed its deadline there shrinks it by
/// ``Policy/dropFactor``. The limit stays within ``Policy/minimumLimit`` and
/// ``Policy/maximumLimit``, and only grows while the upstream is actually
/// busy (at least half the limit in flight), so an idle period cannot
/// inflate it.
///
/// A pure value: no clock of its own (each sample comes with its latency and
/// the time it ended), no lock; ``Upstream`` holds it behind its lock. A call beyond the limit is refused by
/// ``tryAcquire()`` at once, which the gateway turns into 503 with
/// `Retry-After` before any work toward the upstream is queued.
public struct AdaptiveConcurrencyLimit: Sendable {
    public struct Policy: Sendable, Hashable {
        /// The limit before any latency was measured.
        public var initialLimit: Int
        public var minimumLimit: Int
        public var maximumLimit: Int
        /// How much slower than its baseline the upstream may get before the
        /// limit shrinks (2: twice as slow).
        public var tolerance: Double
        /// The weight (0, 1] of each new estimate against the current limit.
        public var smoothing: Double
        /// The time the baseline averages over (an exponential average whose
        /// weight per sample is the time since the last one over this).
        public var baselineWindow: Duration
        /// Samples the current latency averages over.
        public var shortWindow: Int
        /// The limit is multiplied by this when a call is dropped for load.
        public var dropFactor: Double

        public init(
            initialLimit: Int = 64,
            minimumLimit: Int = 8,
            maximumLimit: Int = 512,
            tolerance: Double = 2,
            smoothing: Double = 0.2,
            baselineWindow: Duration = .seconds(30),
            shortWindow: Int = 10,
            dropFactor: Double = 0.9
        ) {
            self.initialLimit = initialLimit
            self.minimumLimit = minimumLimit
            self.maximumLimit = maximumLimit
            self.tolerance = tolerance
            self.smoothing = smoothing
            self.baselineWindow = baselineWindow
            self.shortWindow = shortWindow
            self.dropFactor = dropFactor
        }

        var problems: [String] {
            var problems: [String] = []
            if minimumLimit < 1 || maximumLimit < minimumLimit {
                problems.append("the upstream concurrency limits must satisfy 1 <= minimum <= maximum")
            }
            if initialLimit < minimumLimit || initialLimit > maximumLimit {
                problems.append("the initial upstream concurrency limit must be between the minimum and the maximum")
            }
            if !(tolerance >= 1) { problems.append("the concurrency limit's latency tolerance must be at least 1") }
            if !(smoothing > 0 && smoothing <= 1) { problems.append("the concurrency limit's smoothing must be in (0, 1]") }
            if baselineWindow <= .zero || shortWindow < 1 { problems.append("the concurrency limit's windows must not be empty") }
            if !(dropFactor > 0 && dropFactor < 1) { problems.append("the concurrency limit's drop factor must be in (0, 1)") }
            return problems
        }
    }

    /// How a call that was let through ended, as the limiter learns from it.
    public enum Sample: Sendable, Hashable {
        /// The upstream answered (any status that is its verdict on the
        /// request) after `latency`.
        case answered(latency: Duration)
        /// The upstream refused it for load or let it miss its deadline.
        case dropped
        /// Neither (cancelled by the caller, no connection): says nothing
        /// about the upstream's load; only frees the slot.
        case ignored
    }

    public let policy: Policy
    /// The current limit, fractional so that small steps add up.
    public private(set) var estimate: Double
    /// Calls let through and not yet ended.
    public private(set) var inFlight = 0
    private var baseline: TimedAverage
    private var recent: MovingAverage

    public init(policy: Policy = Policy()) {
        self.policy = policy
        estimate = Double(policy.initialLimit)
        baseline = TimedAverage(window: AdaptiveConcurrencyLimit.seconds(policy.baselineWindow))
        recent = MovingAverage(window: policy.shortWindow)
    }

    /// Calls allowed in flight now.
    public var limit: Int { Int(estimate) }

    /// Takes a slot; `false` (shed the call) when ``limit`` are in flight.
    /// Each success needs one ``release(_:)``.
    public mutating func tryAcquire() -> Bool {
        guard inFlight < limit else { return false }
        inFlight += 1
        return true
    }

    /// Gives a slot back and learns from how its call ended at `now`.
    public mutating func release(_ sample: Sample, now: ContinuousClock.Instant) {
        let busy = inFlight
        inFlight = max(0, inFlight - 1)
        switch sample {
        case .ignored:
            return
        case .dropped:
            estimate = clamped(estimate * policy.dropFactor)
        case .answered(let latency):
            learn(latency: Self.seconds(latency), busy: busy, now: now)
        }
    }

    private mutating func learn(latency: Double, busy: Int, now: ContinuousClock.Instant) {
        let latency = max(latency, 1e-6)
        let short = recent.add(latency)
        var long = baseline.add(latency, at: now)
        // After a long overload the baseline has crept up; once latency is
        // back to normal it follows at once instead of over the window.
        if long > 2 * short {
            long = baseline.reset(to: short)
        }
        // An upstream that is not busy says nothing about what it could take.
        guard Double(busy) >= estimate / 2 else { return }
        let gradient = min(1, max(0.5, policy.tolerance * long / short))
        let headroom = estimate.squareRoot()
        let proposed = estimate * gradient + headroom
        estimate = clamped(estimate * (1 - policy.smoothing) + proposed * policy.smoothing)
    }

    private func clamped(_ value: Double) -> Double {
        min(Double(policy.maximumLimit), max(Double(policy.minimumLimit), value))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// An exponential average over time: each sample weighs the time since the
/// previous one over `window`, so the average moves at the same pace at 10
/// and at 10,000 samples a second. The first ten samples are a plain mean.
struct TimedAverage: Sendable, Hashable {
    let window: Double
    private(set) var value: Double = 0
    private var count = 0
    private var last: ContinuousClock.Instant?

    init(window: Double) {
        self.window = max(window, 1e-9)
    }

    mutating func add(_ sample: Double, at now: ContinuousClock.Instant) -> Double {
        defer { last = now }
        if count < 10 {
            count += 1
            value += (sample - value) / Double(count)
            return value
        }
        let elapsed = last.map { max(0, AdaptiveConcurrencyLimit.seconds(now - $0)) } ?? 0
        value += (sample - value) * min(1, elapsed / window)
        return value
    }

    mutating func reset(to sample: Double) -> Double {
        value = sample
        return value
    }
}

/// An exponential moving average that is a plain mean until it has seen
/// `window` samples, so the first few do not start from zero.
struct MovingAverage: Sendable, Hashable {
    let window: Int
    private(set) var value: Double = 0
    private var count = 0

    init(window: Int) {
        self.window = max(1, window)
    }

    mutating func add(_ sample: Double) -> Double {
        if count < window {
            count += 1
            value += (sample - value) / Double(count)
        } else {
            let factor = 2 / (Double(window) + 1)
            value = value * (1 - factor) + sample * factor
        }
        return value
    }
}
