import Hummingbird

/// Answers `HEAD` as `GET` would, without the body (RFC 9110 §9.3.2): the
/// outermost middleware, so every answer to a `HEAD`, the API's JSON errors
/// and the 405 of a path without `GET` included, leaves with its status and
/// headers (`Content-Length` the body's) and no body. The router's
/// `autoGenerateHeadEndpoints` serves `HEAD` with each `GET` route's
/// responder.
struct HeadResponseMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .head else { return try await next(request, context) }
        return try await next(request, context).createHeadResponse()
    }
}
