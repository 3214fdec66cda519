import CoreMetrics
import FrameRPC

/// A server's connections as metrics: `rpc_server_connections` (open now)
/// and `rpc_server_connections_accepted_total`, and failed TLS handshakes,
/// `rpc_server_tls_handshake_failures_total`.
public struct ConnectionMetrics: ConnectionObserver {
    private let open: Meter
    private let accepted: Counter
    private let handshakeFailures: Counter

    public init(factory: any MetricsFactory) {
        open = Meter(label: "rpc_server_connections", factory: factory)
        accepted = Counter(label: "rpc_server_connections_accepted_total", factory: factory)
        handshakeFailures = Counter(label: "rpc_server_tls_handshake_failures_total", factory: factory)
    }

    public func connectionOpened() {
        accepted.increment()
        open.increment()
    }

    public func connectionClosed() {
        open.decrement()
    }

    public func tlsHandshakeFailed() {
        handshakeFailures.increment()
    }
}
