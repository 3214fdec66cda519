import FrameRPC
import FrameRPCObservability
import Logging
import NIOCore
import ShopObservability

/// Where a service listens and keeps its data: what `shop serve` and the
/// contract tests give every service.
public struct ServiceEndpoint: Sendable, Hashable {
    public var host: String
    /// 0 lets the system choose.
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 0) {
        self.host = host
        self.port = port
    }

    /// `host:port`, parsed; `nil` if malformed.
    public init?(_ address: String) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        let host = String(address[..<colon])
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }
}

extension RPCServer {
    /// A server for one shop service on `endpoint`, observable: each call
    /// continues its caller's trace, is counted and timed in `metrics`, and
    /// (with a `callLogger`) gets a log line carrying its request and trace
    /// ids; connections are counted too.
    ///
    /// - Parameters:
    ///   - interceptors: run after the observability ones (tests count calls with them).
    ///   - logger: the server's own events (listening, draining).
    ///   - metrics: where the call and connection series go.
    ///   - callLogger: one `call` line per call; `nil` for none.
    ///   - tls: mutual TLS for every connection; `nil` serves plaintext.
    public static func shopService(
        _ service: any RPCService,
        at endpoint: ServiceEndpoint,
        tls: RPCTLSConfiguration? = nil,
        interceptors: [any ServerInterceptor] = [],
        logger: Logger,
        metrics: MetricsRegistry = .shared,
        callLogger: Logger? = nil
    ) -> RPCServer {
        RPCServer(
            configuration: .init(host: endpoint.host, port: endpoint.port, tls: tls),
            services: [service],
            interceptors: RPCObservability.serverInterceptors(metrics: metrics, callLogger: callLogger) + interceptors,
            connectionObserver: RPCObservability.connectionObserver(metrics: metrics),
            logger: logger
        )
    }
}
