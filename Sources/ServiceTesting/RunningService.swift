import FrameRPC
import Foundation
import Logging
import ServiceLifecycle
import ServiceSupport

/// A temporary folder, removed when the test is done with it.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("shop-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs a service in this process on an ephemeral port, with its background
/// work, for the duration of `body`; `body` gets the port.
///
/// When `body` returns or throws, the server stops at once: its
/// connections close, as when a process is killed.
///
/// - Parameters:
///   - factory: how to build the service.
///   - environment: its data folder, upstreams and settings.
///   - endpoint: where to listen; port 0 (the default) lets the system
///     choose, a fixed port lets a test stop a service and start it again
///     where its clients expect it.
///   - interceptors: server interceptors, e.g. to count the calls served.
public func withRunningService<Result: Sendable>(
    _ factory: ServiceFactory,
    environment: ServiceEnvironment,
    at endpoint: ServiceEndpoint = ServiceEndpoint(),
    interceptors: [any ServerInterceptor] = [],
    _ body: (Int) async throws -> Result
) async throws -> Result {
    let service = try await factory(environment)
    var logger = environment.logger
    logger.logLevel = .warning
    let server = RPCServer.shopService(service.handler, at: endpoint, interceptors: interceptors, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        for background in service.background {
            group.addTask { try await background.run() }
        }
        defer { group.cancelAll() }
        return try await body(try await server.port)
    }
}

/// A quiet logger for tests: warnings and worse only.
public func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
