import FrameRPC
import RESTTranscoding

/// What `GET /health` answers: every upstream endpoint's own health RPC,
/// asked at once with a short deadline, and each circuit breaker's state.
/// A service is healthy when any of its endpoints is, and its circuit is
/// the sum of its endpoints' (``Upstream/circuitState``); `endpoints` has
/// the detail. The gateway is `degraded` while any service is unhealthy or
/// any service's circuit is open (its routes answer 503 meanwhile), so a
/// readiness probe and an operator see what callers see. `limits` has each
/// upstream's adaptive concurrency limit and the calls holding it. Only
/// admins get more than ``statusJSON``.
///
/// ```json
/// {"status": "degraded",
///  "services": {"user": "healthy", "order": "unhealthy: unavailable", ...},
///  "circuits": {"user": "closed", "order": "open", ...},
///  "limits": {"user": {"limit": 64, "in_flight": 3}, ...},
///  "endpoints": {"user": [{"address": "10.0.0.1:7001", "condition": "healthy",
///                          "circuit": "closed", "connection": "ready", "calls_in_flight": 0}, ...], ...}}
/// ```
///
/// The probe goes around the breakers (a health check must see the
/// service, not the gateway's opinion of it) and does not count in them.
struct HealthReport: Sendable {
    struct EndpointReport: Sendable {
        let address: String
        let condition: String
        let circuit: String
        let connection: String
        let callsInFlight: Int
    }

    /// Each service's condition by short name: `healthy` or `unhealthy: why`.
    let services: [(name: String, condition: String)]
    let circuits: [(name: String, state: String)]
    let endpoints: [(name: String, endpoints: [EndpointReport])]
    let limits: [(name: String, limit: Int, inFlight: Int)]

    var isHealthy: Bool {
        services.allSatisfy { $0.condition == "healthy" } && circuits.allSatisfy { $0.state != "open" }
    }

    /// Whether the gateway can serve: at least one service answers its
    /// health RPC on some endpoint and its circuit is not open.
    ///
    /// This, not ``isHealthy``, is readiness (`GET /health/ready`): every
    /// gateway sees the same services, so "every service up" would take
    /// every gateway out of the load balancer when one service is down,
    /// turning one service's outage into the whole API's. A gateway that
    /// reaches a service serves its routes and answers the others' with a
    /// fast 503; a gateway that reaches none is most likely cut off itself
    /// (its node's network, a policy), so leaving the rotation lets the
    /// load balancer prefer gateways that are not.
    var isReady: Bool {
        let open = Set(circuits.filter { $0.state == "open" }.map(\.name))
        return services.contains { $0.condition == "healthy" && !open.contains($0.name) }
    }

    /// The public body of `GET /health/ready`.
    var readinessJSON: [UInt8] {
        JSONValue.object([("status", .string(isReady ? "ready" : "not ready"))]).serialized
    }

    static func check(_ upstreams: [Upstream], timeout: Duration) async -> HealthReport {
        let reports = await withTaskGroup(of: (String, String, [EndpointReport]).self) { group in
            for upstream in upstreams {
                group.addTask {
                    let (condition, endpoints) = await conditions(of: upstream, timeout: timeout)
                    return (upstream.name, condition, endpoints)
                }
            }
            var reports: [String: (String, [EndpointReport])] = [:]
            for await (name, condition, endpoints) in group { reports[name] = (condition, endpoints) }
            return reports
        }
        return HealthReport(
            services: upstreams.map { ($0.name, reports[$0.name]?.0 ?? "unhealthy: unknown") },
            circuits: upstreams.map { ($0.name, $0.circuitState.name) },
            endpoints: upstreams.map { ($0.name, reports[$0.name]?.1 ?? []) },
            limits: upstreams.map { upstream in
                let (limit, inFlight) = upstream.concurrencyLimit
                return (upstream.name, limit, inFlight)
            }
        )
    }

    /// The service's condition (healthy if any endpoint is; else the first
    /// endpoint's) and each endpoint's.
    private static func conditions(of upstream: Upstream, timeout: Duration) async -> (String, [EndpointReport]) {
        let endpoints = upstream.client.endpoints
        guard !endpoints.isEmpty else {
            // No address yet (a DNS name): the client says why.
            return (await condition(of: upstream.client, serviceName: upstream.serviceName, timeout: timeout), [])
        }
        let circuits = Dictionary(upstream.endpointCircuits.map { ($0.address, $0.state.name) }, uniquingKeysWith: { first, _ in first })
        let conditions = await withTaskGroup(of: (Int, String).self) { group in
            for (index, endpoint) in endpoints.enumerated() {
                group.addTask { (index, await condition(of: endpoint.client, serviceName: upstream.serviceName, timeout: timeout)) }
            }
            var conditions = Array(repeating: "unhealthy: unknown", count: endpoints.count)
            for await (index, condition) in group { conditions[index] = condition }
            return conditions
        }
        let reports = endpoints.enumerated().map { index, endpoint in
            EndpointReport(
                address: endpoint.address.description,
                condition: conditions[index],
                circuit: circuits[endpoint.address] ?? "closed",
                connection: endpoint.connectivity.name,
                callsInFlight: endpoint.callsInFlight
            )
        }
        return (conditions.contains("healthy") ? "healthy" : conditions[0], reports)
    }

    private static func condition(of client: RPCClient, serviceName: String, timeout: Duration) async -> String {
        do {
            let response = try await HealthClient(client).check(
                .with { $0.service = serviceName },
                options: CallOptions(timeout: timeout)
            )
            return response.status == .serving ? "healthy" : "unhealthy: not serving"
        } catch let error as RPCError {
            switch error.code {
            case .unavailable: return "unhealthy: unavailable"
            case .deadlineExceeded: return "unhealthy: no answer within \(timeout.formatted(.units(allowed: [.milliseconds])))"
            case .notFound: return "unhealthy: does not serve \(serviceName)"
            default: return "unhealthy: \(error.code.name.lowercased().replacingOccurrences(of: "_", with: " "))"
            }
        } catch {
            return "unhealthy: unknown error"
        }
    }

    /// The public body: the status alone.
    var statusJSON: [UInt8] {
        JSONValue.object([("status", .string(isHealthy ? "healthy" : "degraded"))]).serialized
    }

    /// The whole report, for admins.
    var json: [UInt8] {
        JSONValue.object([
            ("status", .string(isHealthy ? "healthy" : "degraded")),
            ("services", .object(services.map { ($0.name, JSONValue.string($0.condition)) })),
            ("circuits", .object(circuits.map { ($0.name, JSONValue.string($0.state)) })),
            ("endpoints", .object(endpoints.map { service in
                (service.name, JSONValue.array(service.endpoints.map { endpoint in
                    JSONValue.object([
                        ("address", .string(endpoint.address)),
                        ("condition", .string(endpoint.condition)),
                        ("circuit", .string(endpoint.circuit)),
                        ("connection", .string(endpoint.connection)),
                        ("calls_in_flight", .number(String(endpoint.callsInFlight))),
                    ])
                }))
            })),
            ("limits", .object(limits.map { upstream in
                (upstream.name, JSONValue.object([
                    ("limit", .number(String(upstream.limit))),
                    ("in_flight", .number(String(upstream.inFlight))),
                ]))
            })),
        ]).serialized
    }
}
