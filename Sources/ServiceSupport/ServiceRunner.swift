import FrameRPC
import Logging
import ServiceLifecycle

/// Serves one shop service until SIGTERM or SIGINT, then drains: what
/// `shop serve <service>` does once its configuration is read.
public enum ServiceRunner {
    /// - Parameters:
    ///   - onReady: called with the bound port once the server listens.
    public static func serve(
        name: String,
        factory: ServiceFactory,
        at endpoint: ServiceEndpoint,
        environment: ServiceEnvironment,
        onReady: @escaping @Sendable (Int) -> Void
    ) async throws {
        let service = try await factory(environment)
        let server = RPCServer.shopService(service.handler, at: endpoint, logger: environment.logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)] + service.background.map { .init(service: $0) }
                    + [SupervisorWatch(settings: environment.settings)].compactMap { $0 }.map {
                        .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
                    },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: environment.logger
            )
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let port = try await server.port
                onReady(port)
            }
            try await tasks.waitForAll()
        }
    }
}
