/// Per-call settings for an outgoing call.
///
/// The call's deadline is the earliest of ``deadline``, now plus
/// ``timeout``, and the deadline of the call being served when this one is
/// made from inside a handler (see ``ServerContext/current``). A call whose
/// budget is spent is not sent: it fails at once with DEADLINE_EXCEEDED.
public struct CallOptions: Sendable {
    /// The longest the call may take, counted from when it is made.
    public var timeout: Duration?
    /// A point in time after which the call has failed.
    public var deadline: ContinuousClock.Instant?
    /// Request metadata. Trace context and the request id of the call being
    /// served are added unless set here.
    public var metadata: Metadata

    public init(timeout: Duration? = nil, deadline: ContinuousClock.Instant? = nil, metadata: Metadata = [:]) {
        self.timeout = timeout
        self.deadline = deadline
        self.metadata = metadata
    }

    public static var defaults: CallOptions { CallOptions() }

    /// These options with `timeout` as the limit when the caller set neither
    /// a timeout nor a deadline: how a method's default deadline applies.
    /// An inherited deadline still wins when it is earlier.
    public func defaultingTimeout(to timeout: Duration) -> CallOptions {
        guard self.timeout == nil, deadline == nil else { return self }
        var options = self
        options.timeout = timeout
        return options
    }

    /// The effective deadline at `now`, given the deadline inherited from the
    /// call being served, if any.
    func effectiveDeadline(now: ContinuousClock.Instant, inherited: ContinuousClock.Instant?) -> ContinuousClock.Instant? {
        var result = inherited
        if let deadline { result = result.map { min($0, deadline) } ?? deadline }
        if let timeout {
            let fromTimeout = now.advanced(by: timeout)
            result = result.map { min($0, fromTimeout) } ?? fromTimeout
        }
        return result
    }
}
