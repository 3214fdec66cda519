import FrameRPC
import Logging
import ServiceLifecycle

/// Serves one shop service until SIGTERM or SIGINT, then drains: what
/// `shop serve <service>` does once its configuration is read.
///
/// Besides the RPC server and the service's background work, it serves
/// `GET /metrics` on `SHOP_METRICS_PORT` when that setting is present
/// (``ServiceEnvironment/MetricsSetting``).
public enum ServiceRunner {
    /// - Parameters:
    ///   - firstServices: services started before the service's own and
    ///     stopped after them (the process's log writer).
    ///   - onReady: called with the bound RPC port once the server (and the
    ///     metrics endpoint, if any) listens.
    public static func serve(
        name: String,
        factory: ServiceFactory,
        at endpoint: ServiceEndpoint,
        environment: ServiceEnvironment,
        firstServices: [any Service] = [],
        onReady: @escaping @Sendable (Int) -> Void
    ) async throws {
        let service = try await factory(environment)
        let parts = try ServiceParts(service, at: endpoint, environment: environment)
        let group = ServiceGroup(
            configuration: .init(
                services: firstServices.map { .init(service: $0) }
                    + parts.services.map { .init(service: $0) }
                    + [SupervisorWatch(settings: environment.settings)].compactMap { $0 }.map {
                        .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
                    },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: environment.logger
            )
        )
        let logger = environment.logger
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let ports = try await parts.ports()
                if let metrics = ports.metrics {
                    logger.info("metrics endpoint listening", metadata: [
                        "service": "\(name)", "address": "\(parts.metricsEndpoint!.endpoint.host):\(metrics)",
                    ])
                }
                onReady(ports.rpc)
            }
            try await tasks.waitForAll()
        }
    }
}
