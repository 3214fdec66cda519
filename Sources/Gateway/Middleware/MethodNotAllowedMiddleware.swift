import Hummingbird

/// Turns the router's 404 for a path that exists under other methods into
/// 405 with `Allow` (RFC 9110 §15.5.6): `TRACE /api/users/` is not "no such
/// route", it is a route that does not take TRACE.
///
/// It sits inside ``RequestEnvelopeMiddleware``, so the answer is the API's
/// JSON error like any other; only the router's own not-found is changed,
/// never a 404 a route answered (an unknown product stays 404).
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let methods: AllowedMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError where error.status == .notFound {
            let allowed = methods.allowed(forPath: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            throw GatewayError.methodNotAllowed(allowed: allowed)
        }
    }
}
