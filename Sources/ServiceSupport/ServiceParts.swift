import FrameRPC
import Logging
import ServiceLifecycle

/// The long-running parts of one service, wired for observability: its
/// RPC server (traced, counted, one log line per call), its background
/// work, and its metrics endpoint when `SHOP_METRICS_PORT` is set. What
/// ``ServiceRunner`` runs in a process and `ServiceTesting` runs in tests.
public struct ServiceParts: Sendable {
    public let server: RPCServer
    public let background: [any Service]
    /// `GET /metrics`, when configured.
    public let metricsEndpoint: MetricsEndpoint?

    /// - Parameters:
    ///   - service: the built service.
    ///   - endpoint: where its RPC server listens.
    ///   - environment: its logger (for calls), metrics and settings.
    ///   - serverLogger: the RPC server's own events; the environment's logger by default.
    ///   - interceptors: more server interceptors, after the observability ones.
    /// - Throws: ``ConfigurationError`` for a malformed metrics setting.
    public init(
        _ service: RunnableService,
        at endpoint: ServiceEndpoint,
        environment: ServiceEnvironment,
        serverLogger: Logger? = nil,
        interceptors: [any ServerInterceptor] = []
    ) throws {
        server = RPCServer.shopService(
            service.handler,
            at: endpoint,
            tls: environment.tls,
            interceptors: interceptors,
            logger: serverLogger ?? environment.logger,
            metrics: environment.metrics,
            callLogger: environment.logger
        )
        background = service.background
        metricsEndpoint = try environment.metricsEndpoint(serviceHost: endpoint.host).map {
            MetricsEndpoint(metrics: environment.metrics, at: $0, logger: serverLogger ?? environment.logger)
        }
    }

    /// Everything to run, the server first.
    public var services: [any Service] {
        [server] + background + (metricsEndpoint.map { [$0] } ?? [])
    }

    /// The RPC port and the metrics port, once both listen.
    public func ports() async throws -> (rpc: Int, metrics: Int?) {
        let rpc = try await server.port
        let metrics = try await metricsEndpoint?.port
        return (rpc, metrics)
    }
}
