import FrameRPC
import Foundation
import Logging
import ServiceLifecycle
import ServiceSupport
import Synchronization

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
    try await withRunningServicePorts(factory, environment: environment, at: endpoint, interceptors: interceptors) { ports in
        try await body(ports.rpc)
    }
}

/// The ports of a service run by ``withRunningServicePorts(_:environment:_:)``.
public struct ServicePorts: Sendable {
    public let rpc: Int
    /// The `GET /metrics` port, when the environment sets `SHOP_METRICS_PORT`.
    public let metrics: Int?
}

/// ``withRunningService(_:environment:_:)``, wired as ``ServiceRunner`` wires
/// a process (so its metrics endpoint runs when `SHOP_METRICS_PORT` is set,
/// 0 for any free port); `body` gets both ports.
public func withRunningServicePorts<Result: Sendable>(
    _ factory: ServiceFactory,
    environment: ServiceEnvironment,
    at endpoint: ServiceEndpoint = ServiceEndpoint(),
    interceptors: [any ServerInterceptor] = [],
    _ body: (ServicePorts) async throws -> Result
) async throws -> Result {
    let environment = try await TestStorage.prepared(environment)
    let service = try await factory(environment)
    var serverLogger = environment.logger
    serverLogger.logLevel = .warning
    let parts = try ServiceParts(service, at: endpoint, environment: environment, serverLogger: serverLogger, interceptors: interceptors)
    let label = environment.logger.label
    return try await withThrowingTaskGroup(of: Void.self) { group in
        let stopping = StopWatch()
        for part in parts.services {
            group.addTask { try await stopping.reportingHang(of: part, in: label) }
        }
        defer { group.cancelAll() }
        let ports = try await parts.ports()
        return try await body(ServicePorts(rpc: ports.rpc, metrics: ports.metrics))
    }
}

/// Says on standard error which part of a test's service is still running
/// well after its service was stopped (cancelled): a part that ignores
/// cancellation keeps the test waiting for ever, and this names it.
public struct StopWatch: Sendable {
    public init() {}
    static let patience: Duration = .seconds(20)

    public func reportingHang(of part: any Service, in label: String) async throws {
        let ended = EndFlag()
        defer { ended.set() }
        try await withTaskCancellationHandler {
            try await part.run()
        } onCancel: {
            let name = String(describing: type(of: part))
            // Unowned on purpose: it only watches, and ends after `patience`.
            Task.detached {
                try? await Task.sleep(for: Self.patience)
                guard !ended.isSet else { return }
                FileHandle.standardError.write(Data("ServiceTesting: \(label)'s \(name) has not stopped \(Self.patience) after it was cancelled\n".utf8))
            }
        }
    }
}

private final class EndFlag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

/// A quiet logger for tests: warnings and worse only.
public func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}
