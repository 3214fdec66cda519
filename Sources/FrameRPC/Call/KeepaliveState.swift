import NIOCore

/// How a side of a connection finds out that its peer is gone: after
/// ``interval`` without hearing anything it sends `Ping`, and no answer
/// within ``timeout`` ends the connection (PROTOCOL.md section 7).
public struct Keepalive: Sendable, Hashable {
    public var interval: Duration
    public var timeout: Duration

    public init(interval: Duration = .seconds(30), timeout: Duration = .seconds(10)) {
        self.interval = interval
        self.timeout = timeout
    }
}

/// The keepalive bookkeeping of one connection, on its event loop.
struct KeepaliveState {
    private var pongTimeout: Scheduled<Void>?
    private var opaque: UInt64 = 0

    var awaitingPong: Bool { pongTimeout != nil }

    mutating func nextOpaque() -> UInt64 {
        opaque &+= 1
        return opaque
    }

    mutating func awaitPong(_ timeout: Scheduled<Void>) {
        pongTimeout = timeout
    }

    /// Any frame from the peer proves it alive.
    mutating func heardFromPeer() {
        cancel()
    }

    mutating func pongReceived() {
        cancel()
    }

    mutating func cancel() {
        pongTimeout?.cancel()
        pongTimeout = nil
    }
}
