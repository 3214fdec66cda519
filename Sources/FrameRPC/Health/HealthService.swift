import Synchronization

public typealias HealthCheckRequest = Framerpc_Health_V1_HealthCheckRequest
public typealias HealthCheckResponse = Framerpc_Health_V1_HealthCheckResponse

/// The standard health service, `framerpc.health.v1.Health`, modelled on
/// gRPC's health protocol.
///
/// `Check` answers the status of a service by its full name
/// (`shop.user.v1.UserService`); the empty name stands for the whole server;
/// an unknown name is NOT_FOUND. Every ``RPCServer`` serves one: its services
/// start SERVING and turn NOT_SERVING when the server starts draining, so a
/// load balancer stops sending before the connections close.
public final class HealthService: HealthHandler {
    public typealias Status = HealthCheckResponse.ServingStatus

    private let statuses = Mutex<[String: Status]>([:])

    public init() {}

    /// Sets a service's status; the empty name is the whole server.
    public func setStatus(_ status: Status, for service: String) {
        statuses.withLock { $0[service] = status }
    }

    /// The status of `service`, or `nil` if it is unknown.
    public func status(of service: String) -> Status? {
        statuses.withLock { $0[service] }
    }

    /// Marks every service NOT_SERVING.
    func enterDrain() {
        statuses.withLock { statuses in
            for name in statuses.keys { statuses[name] = .notServing }
        }
    }

    public func check(_ request: HealthCheckRequest, context: ServerContext) async throws -> HealthCheckResponse {
        guard let status = status(of: request.service) else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.service.prefix(256))'")
        }
        return .with { $0.status = status }
    }
}
