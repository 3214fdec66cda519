import CoreMetrics
import Hummingbird
import ShopObservability

/// Refuses a request with 429 RESOURCE_EXHAUSTED (and `Retry-After: 1`)
/// while ``InFlightLimiter/limit`` others are being handled: the last guard
/// behind each upstream's own concurrency limit. Refusals are counted in
/// `gateway_requests_shed_total{upstream="",reason="in_flight_limit"}`.
struct InFlightLimitMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let limiter: InFlightLimiter
    private let shed: Counter

    init(limiter: InFlightLimiter, metrics: MetricsRegistry = .shared) {
        self.limiter = limiter
        self.shed = Counter(label: "gateway_requests_shed_total", dimensions: [("upstream", ""), ("reason", "in_flight_limit")], factory: metrics.factory)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard limiter.tryAcquire() else {
            shed.increment()
            throw GatewayError.tooManyRequests("the gateway is handling too many requests; try again shortly")
        }
        defer { limiter.release() }
        return try await next(request, context)
    }
}
