import Hummingbird

/// Headers every response carries, success or error, so a browser that
/// meets the API treats it as data and nothing else:
///
/// - `X-Content-Type-Options: nosniff`: a JSON body is never run as a script
///   or rendered as HTML;
/// - `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`
///   unless the route set its own (the docs pages set exactly what they
///   need): a response opened in a browser may load nothing and be framed
///   nowhere;
/// - `Referrer-Policy: no-referrer`;
/// - `Strict-Transport-Security` when the gateway serves HTTPS, so a browser
///   that once reached it over TLS never falls back to plain HTTP.
///
/// Hummingbird sends no `Server` header unless configured to, and the
/// gateway configures none: nothing names the software or its version.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!
    static let strictTransportSecurity = HTTPFields.Element.Name("Strict-Transport-Security")!
    static let dataPolicy = "default-src 'none'; frame-ancestors 'none'"

    /// Whether the gateway serves HTTPS (and so sends HSTS).
    let servesTLS: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = Self.dataPolicy
        }
        response.headers[Self.referrerPolicy] = "no-referrer"
        if servesTLS {
            response.headers[Self.strictTransportSecurity] = "max-age=31536000; includeSubDomains"
        }
        return response
    }
}
