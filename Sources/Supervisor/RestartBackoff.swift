/// How long to wait before restarting a child that crashed.
///
/// Exponential from ``initial`` to ``maximum``; a child that then stays up
/// for ``stableAfter`` is forgiven its past crashes, so one crash a day
/// restarts at once while a child that dies on start is not restarted in a
/// tight loop.
public struct RestartBackoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var stableAfter: Duration

    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(30), stableAfter: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = maximum
        self.stableAfter = stableAfter
    }

    /// The wait before restart number `restart` (1 for the first) of a run
    /// of crashes.
    public func delay(beforeRestart restart: Int) -> Duration {
        var delay = initial
        for _ in 1..<max(restart, 1) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}
