/// The server's half of the per-connection concurrency limit
/// (PROTOCOL.md section 8): what it has told the client, and what it
/// enforces meanwhile.
///
/// A pure value, kept by ``ServerConnectionHandler`` on its event loop.
/// A client that never opted in is told nothing and held to ``current`` at
/// once, as before the extension existed. One that opted in is sent every
/// change as a `Settings` frame and acknowledges each with a `Ping`
/// (``ConcurrencySettings/acknowledgementOpaque``); until a lowered limit is
/// acknowledged, the higher one it replaces is still enforced, so a client
/// that obeys everything it was told is never refused. The list of
/// unacknowledged limits grows only with changes the server makes, never
/// with anything the client sends.
struct AnnouncedConcurrencyLimit: Sendable, Hashable {
    /// The limit the server wants now.
    private(set) var current: Int
    /// Whether the client asked for `Settings`.
    private(set) var peerOptedIn = false
    /// The limit the client is known to have received last.
    private var acknowledged: Int
    /// Limits sent and not yet acknowledged, oldest first.
    private var unacknowledged: [Int] = []

    init(limit: Int) {
        current = max(1, limit)
        acknowledged = current
    }

    /// Calls allowed in flight now: the highest limit the client may still
    /// be obeying.
    var enforced: Int { max(acknowledged, unacknowledged.max() ?? 0) }

    /// The client sent the opt-in `Ping`.
    /// - Returns: the limit to send in `Settings`, or `nil` when it already
    ///   opted in on this connection (only the `Pong` is due then).
    mutating func optIn() -> Int? {
        guard !peerOptedIn else { return nil }
        peerOptedIn = true
        unacknowledged.append(current)
        return current
    }

    /// The server changes its limit.
    /// - Returns: the limit to send in `Settings`, or `nil` when the client
    ///   did not opt in (the new limit holds at once) or nothing changed.
    mutating func change(to limit: Int) -> Int? {
        let limit = max(1, limit)
        guard limit != current else { return nil }
        current = limit
        guard peerOptedIn else {
            acknowledged = limit
            return nil
        }
        unacknowledged.append(limit)
        return limit
    }

    /// The client acknowledged the oldest `Settings` not yet acknowledged;
    /// an acknowledgement with none outstanding changes nothing.
    mutating func acknowledge() {
        guard !unacknowledged.isEmpty else { return }
        acknowledged = unacknowledged.removeFirst()
    }
}

/// The constants of the concurrency-limit extension (PROTOCOL.md section 8).
public enum ConcurrencySettings {
    /// `Ping.opaque` by which a client asks for `Settings` (ASCII "FRPCSET1").
    /// A server that knows the extension sends `Settings` before the `Pong`;
    /// one that does not only answers the `Pong`.
    public static let optInOpaque: UInt64 = 0x4652_5043_5345_5431
    /// `Ping.opaque` by which a client acknowledges one `Settings` frame
    /// (ASCII "FRPCSACK").
    public static let acknowledgementOpaque: UInt64 = 0x4652_5043_5341_434B
}
