import NIOCore

/// What both sides of a FrameRPC connection do the same way, as a pure
/// state machine: keepalive (PROTOCOL.md section 7), flush coalescing,
/// graceful drain (`GoAway{code: 0}` sent or received, the calls in flight
/// finish, then the connection closes; the server's grace period), and the
/// one-way step into closing on a protocol violation or a dead peer.
///
/// Events go in (a frame was read, a read burst ended, something was
/// written, the idle, pong or grace timer fired, a violation was found, a
/// drain started, a `GoAway` arrived, a call ended);
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

    enum DrainAction: Equatable {
        /// Already draining or closing: nothing to send.
        case none
        /// Send `GoAway{code: 0, lastCallID}`; nothing is in flight, so
        /// close once it is written.
        case sendGoAwayAndClose(lastCallID: UInt64)
        /// Send `GoAway{code: 0, lastCallID}`; the calls in flight may
        /// finish until `graceDeadline`: call ``graceTimerFired(at:)`` then.
        case sendGoAwayAndWait(lastCallID: UInt64, graceDeadline: NIODeadline)
    }

    enum GoAwayAction: Equatable {
        /// Already closing: nothing to do.
        case none
        /// The peer drains: take no new calls; fail the calls above
        /// `lastCallID` (the peer will not complete them, and never started
        /// them); the rest may finish (then ``callEnded(callsInFlight:)``).
        case drain(lastCallID: UInt64)
        /// The peer ended the connection with an error code: fail every
        /// call and close now.
        case closeNow(lastCallID: UInt64)
    }

    enum CloseAction: Equatable {
        case none
        /// Close once everything written so far has been flushed.
        case closeWhenWritten
        /// Close at once (the grace period is over).
        case closeNow
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
    /// The `last_call_id` of the `GoAway` this side sent.
    private(set) var sentGoAwayLastCallID: UInt64?
    /// The lowest `last_call_id` of the `GoAway`s the peer sent.
    private(set) var receivedGoAwayLastCallID: UInt64?
    private var graceDeadline: NIODeadline?

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

    // MARK: Drain

    /// Whether a new call may start on this connection: no `GoAway` was
    /// sent or received, and it is not closing. A server answers a call it
    /// may not start UNAVAILABLE (PROTOCOL.md section 6); a client sends it
    /// elsewhere.
    var acceptsNewCalls: Bool {
        !isClosing && sentGoAwayLastCallID == nil && receivedGoAwayLastCallID == nil
    }

    /// This side drains (a server shutting down): it tells the peer which
    /// calls it will still complete, refuses later ones, and closes when
    /// the last has ended or when `grace` is over, whichever comes first.
    mutating func startDraining(lastCallID: UInt64, callsInFlight: Int, grace: Duration, now: NIODeadline) -> DrainAction {
        guard !isClosing, sentGoAwayLastCallID == nil else { return .none }
        sentGoAwayLastCallID = lastCallID
        if callsInFlight == 0 {
            closing()
            return .sendGoAwayAndClose(lastCallID: lastCallID)
        }
        let deadline = now + TimeAmount(grace)
        graceDeadline = deadline
        return .sendGoAwayAndWait(lastCallID: lastCallID, graceDeadline: deadline)
    }

    /// The grace timer set by ``startDraining(lastCallID:callsInFlight:grace:now:)`` fired.
    mutating func graceTimerFired(at now: NIODeadline) -> CloseAction {
        guard !isClosing, let graceDeadline, now >= graceDeadline else { return .none }
        closing()
        return .closeNow
    }

    /// The peer sent `GoAway`. A later one can only lower the last call id
    /// (a peer that drains cannot take back what it refused).
    mutating func goAwayReceived(lastCallID: UInt64, code: UInt32) -> GoAwayAction {
        guard !isClosing else { return .none }
        let last = min(lastCallID, receivedGoAwayLastCallID ?? .max)
        receivedGoAwayLastCallID = last
        if code != 0 {
            closing()
            return .closeNow(lastCallID: last)
        }
        return .drain(lastCallID: last)
    }

    /// A call ended (answered, cancelled, timed out or failed);
    /// `callsInFlight` are those left, waiting ones included. Once a drain
    /// started on either side, the last one closes the connection.
    mutating func callEnded(callsInFlight: Int) -> CloseAction {
        guard !isClosing, callsInFlight == 0,
              sentGoAwayLastCallID != nil || receivedGoAwayLastCallID != nil
        else { return .none }
        closing()
        return .closeWhenWritten
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
        graceDeadline = nil
    }
}
