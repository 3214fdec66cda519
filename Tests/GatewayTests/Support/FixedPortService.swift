import FrameRPC
import Logging
import ServiceSupport
import ServiceTesting

/// Runs a service on a chosen port for the duration of `body`, so a test
/// can stop it and start it again where the gateway expects it.
func withService<Result: Sendable>(
    _ factory: ServiceFactory,
    environment: ServiceEnvironment,
    port: Int,
    _ body: () async throws -> Result
) async throws -> Result {
    let service = try await factory(environment)
    let server = RPCServer.shopService(service.handler, at: ServiceEndpoint(host: "127.0.0.1", port: port), tls: environment.tls, logger: testLogger("gateway-tests.fixed"))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        for background in service.background {
            group.addTask { try await background.run() }
        }
        defer { group.cancelAll() }
        _ = try await server.port
        return try await body()
    }
}
