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
