import NIOCore

/// Which calls of one client connection may be sent now, and which wait:
/// the client's half of the server's per-connection concurrency limit
/// (PROTOCOL.md section 8).
///
/// A pure value, no I/O and no clock: ``ClientConnectionHandler`` asks it on
/// its event loop and does what it answers. A call is sent while fewer than
/// ``limit`` are in flight and none is waiting before it; otherwise it waits
/// in a FIFO queue of at most ``maximumQueued`` calls (plus, until the limit
/// is known, the default limit's worth) (its own deadline still
/// runs; the handler takes it out when that passes); beyond that it is
/// refused at once. Until the server's limit is known (``isSettled``: its
/// `Settings` arrived, or its answer to the opt-in `Ping` came without one,
/// or the wait for it ran out) every call waits, so a server whose limit is
/// below the default never sees the first burst exceed it.
///
/// A limit lowered while more calls are in flight takes effect as they end:
/// nothing already sent is touched.
struct CallAdmission<Waiting> {
    /// What happens to a submitted call.
    enum Decision: Equatable {
        /// Send it now (it counts as in flight).
        case send
        /// It waits for a slot.
        case queue
        /// The queue is full: fail it with RESOURCE_EXHAUSTED.
        case reject
    }

    /// The limit every peer assumes until told otherwise (PROTOCOL.md section 6).
    static var defaultLimit: Int { 256 }

    /// The server's limit as last announced, or ``defaultLimit``.
    private(set) var limit: Int
    /// Whether the server's limit is known; calls wait until it is.
    private(set) var isSettled: Bool
    /// Calls that may wait at once.
    let maximumQueued: Int
    /// Calls sent and not yet ended.
    private(set) var inFlight = 0
    private var queue = CircularBuffer<Waiting>()

    init(maximumQueued: Int, settled: Bool = false) {
        self.limit = Self.defaultLimit
        self.isSettled = settled
        self.maximumQueued = max(0, maximumQueued)
    }

    /// Calls waiting now.
    var queued: Int { queue.count }

    /// A new call asks to be sent.
    mutating func submit(_ call: Waiting) -> Decision {
        if isSettled, inFlight < limit, queue.isEmpty {
            inFlight += 1
            return .send
        }
        // Until the limit is known, the calls the default would let through
        // wait too, on top of the queue's own room.
        let room = isSettled ? maximumQueued : maximumQueued + limit
        guard queue.count < room else { return .reject }
        queue.append(call)
        return .queue
    }

    /// A call that was sent has ended (answered, cancelled, timed out).
    /// - Returns: the waiting calls to send now, oldest first, each counted in flight.
    mutating func ended() -> [Waiting] {
        inFlight = max(0, inFlight - 1)
        return released()
    }

    /// The server announced `limit` (`nil`: it answered without announcing
    /// one, or the wait ran out: the default holds). Values below 1 are
    /// taken as 1, so a call can always make progress.
    /// - Returns: the waiting calls to send now.
    mutating func settle(limit: Int?) -> [Waiting] {
        if let limit { self.limit = max(1, limit) }
        isSettled = true
        return released()
    }

    /// Takes a waiting call out of the queue (its deadline passed or it was
    /// cancelled); `nil` when no waiting call matches.
    mutating func remove(where matches: (Waiting) -> Bool) -> Waiting? {
        guard let index = queue.firstIndex(where: matches) else { return nil }
        return queue.remove(at: index)
    }

    /// Empties the queue (the connection is ending): every waiting call, oldest first.
    mutating func removeAllWaiting() -> [Waiting] {
        let waiting = Array(queue)
        queue.removeAll()
        return waiting
    }

    private mutating func released() -> [Waiting] {
        guard isSettled else { return [] }
        var ready: [Waiting] = []
        while inFlight < limit, let next = queue.popFirst() {
            inFlight += 1
            ready.append(next)
        }
        return ready
    }
}
