import FrameRPC
import Foundation
import Logging
import ServiceLifecycle

/// Everything a service needs from the process that runs it: where its data
/// lives, how to reach the services it calls, and its settings. `shop serve`
/// fills it from flags and `SHOP_*` variables; contract tests fill it with
/// temporary folders and ephemeral ports.
public struct ServiceEnvironment: Sendable {
    /// The folder holding the service's SQLite files.
    public var dataDirectory: String
    /// Addresses of the services this one calls, by short name
    /// (`user`, `product`, `inventory`, `order`, `notification`).
    public var upstreams: [String: ServiceEndpoint]
    /// Services this one calls at several addresses or a DNS name, by short
    /// name; for a service in both, this wins over ``upstreams``.
    public var upstreamTargets: [String: RPCTarget]
    /// Settings by `SHOP_*` name, e.g. `SHOP_SIGNING_KEY`.
    public var settings: [String: String]
    public var logger: Logger

    public init(
        dataDirectory: String,
        upstreams: [String: ServiceEndpoint] = [:],
        upstreamTargets: [String: RPCTarget] = [:],
        settings: [String: String] = [:],
        logger: Logger = Logger(label: "shop")
    ) {
        self.dataDirectory = dataDirectory
        self.upstreams = upstreams
        self.upstreamTargets = upstreamTargets
        self.settings = settings
        self.logger = logger
    }

    /// `<dataDirectory>/<name>.sqlite`.
    public func databasePath(_ name: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("\(name).sqlite").path
    }

    public func setting(_ key: String) -> String? {
        settings[key].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Where an upstream service is: ``upstreamTargets``, else ``upstreams``.
    public func target(for upstream: String) -> RPCTarget? {
        upstreamTargets[upstream] ?? upstreams[upstream].map { .address(host: $0.host, port: $0.port) }
    }

    /// A client for an upstream service, balanced across its addresses, or
    /// a configuration error naming it.
    public func client(for upstream: String) throws -> RPCClient {
        guard let target = target(for: upstream) else {
            throw ConfigurationError("no address for the \(upstream) service (--upstream \(upstream)=HOST:PORT or SHOP_\(upstream.uppercased())_ADDR)")
        }
        return RPCClient(target: target, logger: logger)
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
