import FrameRPC
import FrameRPCObservability
import Foundation
import Logging
import ServiceLifecycle
import ShopObservability

/// Everything a service needs from the process that runs it: where its data
/// lives, how to reach the services it calls, and its settings. `shop serve`
/// fills it from flags and `SHOP_*` variables; contract tests fill it with
/// temporary folders and ephemeral ports.
public struct ServiceEnvironment: Sendable {
    /// The folder holding the service's SQLite files (when no
    /// ``databaseURL`` is set).
    public var dataDirectory: String
    /// Addresses of the services this one calls, by short name
    /// (`user`, `product`, `inventory`, `order`, `notification`).
    public var upstreams: [String: ServiceEndpoint]
    /// Services this one calls at several addresses or a DNS name, by short
    /// name; for a service in both, this wins over ``upstreams``.
    public var upstreamTargets: [String: RPCTarget]
    /// Settings by `SHOP_*` name, e.g. `SHOP_SIGNING_KEY`.
    public var settings: [String: String]
    /// This service's mutual TLS material (its certificate, key and trust
    /// roots): its server requires it of every caller and its clients
    /// present it, checking that each upstream is the service it names.
    /// `nil`: plaintext (dev mode without certificates only).
    public var tls: RPCTLSConfiguration?
    public var logger: Logger
    /// Where the service's metrics are recorded: the RPC server's and
    /// clients' series, the database's, the service's own. The process's
    /// registry unless a test gives one of its own.
    public var metrics: MetricsRegistry

    public init(
        dataDirectory: String,
        upstreams: [String: ServiceEndpoint] = [:],
        upstreamTargets: [String: RPCTarget] = [:],
        settings: [String: String] = [:],
        tls: RPCTLSConfiguration? = nil,
        logger: Logger = Logger(label: "shop"),
        metrics: MetricsRegistry = .shared
    ) {
        self.dataDirectory = dataDirectory
        self.upstreams = upstreams
        self.upstreamTargets = upstreamTargets
        self.settings = settings
        self.tls = tls
        self.logger = logger
        self.metrics = metrics
    }

    /// `<dataDirectory>/<name>.sqlite`.
    public func databasePath(_ name: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("\(name).sqlite").path
    }

    /// `SHOP_DATABASE_URL` (`shop serve --database-url`): the PostgreSQL
    /// database every service keeps its schema in; `nil` for SQLite files
    /// in ``dataDirectory`` (``ServiceDatabase``).
    public var databaseURL: String? { setting(ServiceDatabase.urlSetting) }

    public func setting(_ key: String) -> String? {
        settings[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Where an upstream service is: ``upstreamTargets``, else ``upstreams``.
    public func target(for upstream: String) -> RPCTarget? {
        upstreamTargets[upstream] ?? upstreams[upstream].map { .address(host: $0.host, port: $0.port) }
    }

    /// A client for an upstream service, balanced across its addresses, or
    /// a configuration error naming it. Its calls continue the current trace
    /// and are counted in ``metrics``; with ``tls`` it presents this
    /// service's certificate and accepts only a server whose certificate
    /// names `upstream` (`spiffe://shop.local/service/<upstream>`).
    public func client(for upstream: String) throws -> RPCClient {
        guard let target = target(for: upstream) else {
            throw ConfigurationError("no address for the \(upstream) service (--upstream \(upstream)=HOST:PORT or SHOP_\(upstream.uppercased())_ADDR)")
        }
        return RPCClient(
            target: target,
            configuration: RPCClient.Configuration(tls: tls?.requiringServerIdentity(PeerIdentity.serviceURI(upstream))),
            interceptors: RPCObservability.clientInterceptors(metrics: metrics),
            logger: logger
        )
    }

    /// The settings that place the metrics endpoint.
    public enum MetricsSetting {
        /// The port of `GET /metrics`; unset: no endpoint; 0: any free port.
        public static let port = "SHOP_METRICS_PORT"
        /// Its address; the service's own host when unset.
        public static let host = "SHOP_METRICS_HOST"
    }

    /// Where to serve `GET /metrics`, from ``MetricsSetting``, or `nil`
    /// when `SHOP_METRICS_PORT` is not set.
    ///
    /// - Parameter serviceHost: the host the service's RPC server binds.
    /// - Throws: ``ConfigurationError`` for a port that is not 0...65535.
    public func metricsEndpoint(serviceHost: String) throws -> ServiceEndpoint? {
        guard let text = setting(MetricsSetting.port) else { return nil }
        guard let port = Int(text), (0...65_535).contains(port) else {
            throw ConfigurationError("\(MetricsSetting.port) must be a port between 0 and 65535, not '\(text.prefix(64))'")
        }
        return ServiceEndpoint(host: setting(MetricsSetting.host) ?? serviceHost, port: port)
    }
}

/// A mistake in how a process was started: reported with a clear message,
/// never as a crash.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A service ready to serve: its handler, and the long-lived work it owns
/// (an outbox relay, an expiry sweep), run in the same service group and
/// stopped on shutdown.
public struct RunnableService: Sendable {
    public let handler: any RPCService
    public let background: [any Service]

    public init(handler: any RPCService, background: [any Service] = []) {
        self.handler = handler
        self.background = background
    }
}

/// How `shop serve` and the tests build a service.
public typealias ServiceFactory = @Sendable (ServiceEnvironment) async throws -> RunnableService
