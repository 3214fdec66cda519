import Hummingbird

/// Routes a `HEAD` request as the `GET` of its path, so every `GET` route
/// answers `HEAD` too. It is the innermost middleware: the envelope, the
/// access log and the 405 check before it see the method as sent;
/// ``HeadResponseMiddleware`` drops the body.
struct HeadAsGetMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .head else { return try await next(request, context) }
        var head = request.head
        head.method = .get
        return try await next(Request(head: head, body: request.body), context)
    }
}
