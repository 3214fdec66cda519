import CoreMetrics
import Hummingbird
import Metrics
import ShopObservability

/// Counts and times every request, outermost of all middleware so it sees
/// the final status of everything, refusals and errors included:
///
/// - `http_requests_total{method, route, status}`;
/// - `http_request_duration_seconds{method, route}` (until the response
///   head is ready; a Server-Sent Events stream counts until it opens);
/// - `http_requests_in_flight`.
///
/// `route` is the route's template (`/api/orders/{id}`), never the raw
/// path, and `unmatched` for paths no route serves; methods outside the
/// standard ones are `other`. So no client can grow the number of series.
struct HTTPMetricsMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    private struct Outcome: Hashable, Sendable {
        let method: String
        let route: String
        let status: Int
    }

    private struct Route: Hashable, Sendable {
        let method: String
        let route: String
    }

    private let requests: MetricsCache<Outcome, Counter>
    private let durations: MetricsCache<Route, CoreMetrics.Timer>
    private let inFlight: Meter

    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    init(metrics: MetricsRegistry) {
        let factory = metrics.factory
        requests = MetricsCache { key in
            Counter(
                label: "http_requests_total",
                dimensions: [("method", key.method), ("route", key.route), ("status", String(key.status))],
                factory: factory
            )
        }
        durations = MetricsCache { key in
            CoreMetrics.Timer(
                label: "http_request_duration_seconds",
                dimensions: [("method", key.method), ("route", key.route)],
                factory: factory
            )
        }
        inFlight = Meter(label: "http_requests_in_flight", factory: factory)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        inFlight.increment()
        defer { inFlight.decrement() }
        do {
            let response = try await next(request, context)
            record(request, context: context, status: Int(response.status.code))
            return response
        } catch {
            record(request, context: context, status: Int(GatewayError(error).status.code))
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int) {
        let method = Self.knownMethods.contains(request.method.rawValue) ? request.method.rawValue : "other"
        let route = Self.route(context)
        durations(Route(method: method, route: route)).record(duration: ContinuousClock.now - context.arrival)
        requests(Outcome(method: method, route: route, status: status)).increment()
    }

    /// The template of the route that served the request: the route
    /// table's (set by ``RESTEndpoint``), else Hummingbird's, else
    /// `unmatched` (Hummingbird calls a path no route serves `NotFound`).
    static func route(_ context: Context) -> String {
        if let route = context.record.current.route { return route }
        guard let path = context.endpointPath, path != "NotFound" else { return "unmatched" }
        return path
    }
}
