import Hummingbird

/// Refuses a request with 429 RESOURCE_EXHAUSTED (and `Retry-After: 1`)
/// while ``InFlightLimiter/limit`` others are being handled.
struct InFlightLimitMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let limiter: InFlightLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard limiter.tryAcquire() else {
            throw GatewayError.tooManyRequests("the gateway is handling too many requests; try again shortly")
        }
        defer { limiter.release() }
        return try await next(request, context)
    }
}
