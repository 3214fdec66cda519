import FrameRPC
import RESTTranscoding

/// What `GET /health` answers: every upstream's own health RPC, asked at
/// once with a short deadline, and each circuit breaker's state.
///
/// ```json
/// {"status": "degraded",
///  "services": {"user": "healthy", "order": "unhealthy: unavailable", ...},
///  "circuits": {"user": "closed", "order": "open", ...}}
/// ```
///
/// The probe goes around the breakers (a health check must see the
/// service, not the gateway's opinion of it) and does not count in them.
struct HealthReport: Sendable {
    /// Each service's condition by short name: `healthy` or `unhealthy: why`.
    let services: [(name: String, condition: String)]
    let circuits: [(name: String, state: String)]

    var isHealthy: Bool { services.allSatisfy { $0.condition == "healthy" } }

    static func check(_ upstreams: [Upstream], timeout: Duration) async -> HealthReport {
        let conditions = await withTaskGroup(of: (String, String).self) { group in
            for upstream in upstreams {
                group.addTask { (upstream.name, await condition(of: upstream, timeout: timeout)) }
            }
            var conditions: [String: String] = [:]
            for await (name, condition) in group { conditions[name] = condition }
            return conditions
        }
        return HealthReport(
            services: upstreams.map { ($0.name, conditions[$0.name] ?? "unhealthy: unknown") },
            circuits: upstreams.map { ($0.name, $0.circuitState.name) }
        )
    }

    private static func condition(of upstream: Upstream, timeout: Duration) async -> String {
        do {
            let response = try await HealthClient(upstream.client).check(
                .with { $0.service = upstream.serviceName },
                options: CallOptions(timeout: timeout)
            )
            return response.status == .serving ? "healthy" : "unhealthy: not serving"
        } catch let error as RPCError {
            switch error.code {
            case .unavailable: return "unhealthy: unavailable"
            case .deadlineExceeded: return "unhealthy: no answer within \(timeout.formatted(.units(allowed: [.milliseconds])))"
            case .notFound: return "unhealthy: does not serve \(upstream.serviceName)"
            default: return "unhealthy: \(error.code.name.lowercased().replacingOccurrences(of: "_", with: " "))"
            }
        } catch {
            return "unhealthy: unknown error"
        }
    }

    /// The JSON body.
    var json: [UInt8] {
        JSONValue.object([
            ("status", .string(isHealthy ? "healthy" : "degraded")),
            ("services", .object(services.map { ($0.name, JSONValue.string($0.condition)) })),
            ("circuits", .object(circuits.map { ($0.name, JSONValue.string($0.state)) })),
        ]).serialized
    }
}
