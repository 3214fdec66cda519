import NIOCore

/// What both sides of a FrameRPC connection do the same way, as a pure
/// state machine: keepalive (PROTOCOL.md section 7), flush coalescing, and
/// the one-way step into closing on a protocol violation or a dead peer.
///
/// Events go in (a frame was read, a read burst ended, something was
/// written, the idle timer or the pong timer fired, a violation was found);
/// the returned action says what the NIO handler must do. The machine holds
/// no timers, channels or clocks: the time comes with the events, so tests
/// drive it with a fake clock. ``ClientConnectionHandler`` and
/// ``ServerConnectionHandler`` are thin shells over it plus their own call
/// tables.
///
/// Flushing: writes made while a read burst is being processed are flushed
/// once when the burst ends (`channelReadComplete`), so answers to frames
/// that arrived together share one system call; a write outside a burst (a
/// handler task finishing later) asks for one flush at the end of the
/// current event-loop tick, shared by every write until it runs.
struct ConnectionStateMachine {
    enum FlushAction: Equatable {
        case none
        /// Flush at the end of this event-loop tick (`execute`), then call
        /// ``flushRan()``.
        case scheduleFlush
        case flushNow
    }

    enum KeepaliveAction: Equatable {
        case none
        /// Send `Ping{opaque}`; call ``pongTimerFired(at:)`` at `deadline`.
        case sendPing(opaque: UInt64, pongDeadline: NIODeadline)
        /// No answer in time: the peer is gone; close the connection.
        case closeDeadConnection
    }

    enum ViolationAction: Equatable {
        /// Already closing: nothing more to say.
        case none
        /// Send `GoAway{code: 13, message: reason}`, then close.
        case sendGoAwayAndClose(reason: String)
    }

    private enum FlushState {
        /// Nothing written since the last flush.
        case idle
        /// Inside a read burst; `pending`: written during it.
        case reading(pending: Bool)
        /// A flush is scheduled for the end of the tick.
        case scheduled
    }

    private enum KeepaliveState: Equatable {
        case quiet
        case awaitingPong(opaque: UInt64, deadline: NIODeadline)
    }

    private let keepalive: Keepalive?
    private var flush = FlushState.idle
    private var keepaliveState = KeepaliveState.quiet
    private var lastOpaque: UInt64 = 0
    private(set) var isClosing = false

    init(keepalive: Keepalive?) {
        self.keepalive = keepalive
    }

    // MARK: Reading

    /// A frame arrived: the peer is alive, and a burst is being read.
    mutating func frameReceived() {
        keepaliveState = .quiet
        if case .idle = flush { flush = .reading(pending: false) }
    }

    /// The read burst is over (`channelReadComplete`).
    mutating func readComplete() -> FlushAction {
        switch flush {
        case .reading(pending: true):
            flush = .idle
            return .flushNow
        case .reading(pending: false):
            flush = .idle
            return .none
        case .idle, .scheduled:
            return .none
        }
    }

    // MARK: Writing

    /// Something was written (not flushed).
    mutating func wrote() -> FlushAction {
        switch flush {
        case .idle:
            flush = .scheduled
            return .scheduleFlush
        case .reading:
            flush = .reading(pending: true)
            return .none
        case .scheduled:
            return .none
        }
    }

    /// The flush scheduled by ``wrote()`` runs now.
    mutating func flushRan() -> FlushAction {
        guard case .scheduled = flush else { return .none }
        flush = .idle
        return .flushNow
    }

    // MARK: Keepalive

    /// Nothing was heard for the keepalive interval (the idle timer fired).
    mutating func idleTimerFired(at now: NIODeadline) -> KeepaliveAction {
        guard let keepalive, !isClosing, case .quiet = keepaliveState else { return .none }
        lastOpaque &+= 1
        let deadline = now + TimeAmount(keepalive.timeout)
        keepaliveState = .awaitingPong(opaque: lastOpaque, deadline: deadline)
        return .sendPing(opaque: lastOpaque, pongDeadline: deadline)
    }

    /// The pong timer set by ``idleTimerFired(at:)`` fired.
    mutating func pongTimerFired(at now: NIODeadline) -> KeepaliveAction {
        guard !isClosing, case .awaitingPong(_, let deadline) = keepaliveState, now >= deadline else { return .none }
        isClosing = true
        keepaliveState = .quiet
        return .closeDeadConnection
    }

    /// Whether a keepalive `Ping` is unanswered.
    var awaitingPong: Bool {
        if case .awaitingPong = keepaliveState { return true }
        return false
    }

    // MARK: Closing

    /// The peer broke the protocol.
    mutating func violation(_ violation: ProtocolViolation) -> ViolationAction {
        guard !isClosing else { return .none }
        isClosing = true
        keepaliveState = .quiet
        return .sendGoAwayAndClose(reason: violation.reason)
    }

    /// The connection is closing for another reason (drained, closed by
    /// either side); keepalive stops.
    mutating func closing() {
        isClosing = true
        keepaliveState = .quiet
    }
}
