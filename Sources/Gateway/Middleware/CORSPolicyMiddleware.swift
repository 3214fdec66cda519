import Hummingbird

/// Cross-origin access for browsers, for the configured origins only.
///
/// A request whose `Origin` is allowed gets `Access-Control-Allow-Origin`
/// (its own origin, or `*` when any is allowed) and may read the gateway's
/// own headers; a preflight `OPTIONS` from an allowed origin is answered 204
/// here with the methods and headers the API uses. Other origins get no
/// CORS headers, so browsers keep them out.
struct CORSPolicyMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    let origins: Set<String>

    init(origins: [String]) {
        self.origins = Set(origins)
    }

    var allowsAny: Bool { origins.contains("*") }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowsAny || origins.contains(origin) else {
            return try await next(request, context)
        }
        var headers: HTTPFields = [:]
        headers[.accessControlAllowOrigin] = allowsAny ? "*" : origin
        if !allowsAny { headers[.vary] = "Origin" }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, PATCH, OPTIONS"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Idempotency-Key, X-Request-ID, X-Request-Timeout, traceparent, tracestate"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        headers[.accessControlExposeHeaders] = "X-Request-ID, X-Process-Time, Retry-After, traceparent, Next-Page-Token"
        var response = try await next(request, context)
        for field in headers { response.headers.append(field) }
        return response
    }
}
