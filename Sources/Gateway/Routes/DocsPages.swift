import Hummingbird

/// `GET /docs` (Swagger UI), its start script `GET /docs/swagger-init.js`,
/// and `GET /redoc` (ReDoc): pages that render the gateway's own
/// `/openapi.json`. Swagger UI's "Authorize" takes a bearer token from
/// `POST /api/auth/login` and its "Try it out" calls this gateway.
///
/// The start script is a file of ours rather than inline, so the pages'
/// Content-Security-Policy needs no `'unsafe-inline'` for scripts: scripts
/// come only from the gateway and the configured assets' origin, and the
/// pages may connect only to the gateway.
enum DocsPages {
    static func register(on router: Router<GatewayRequestContext>, configuration: DocsConfiguration) {
        guard configuration.enabled else { return }
        let swagger = configuration.swaggerUIAssets
        let redoc = configuration.redocAssets
        let swaggerPage = page(swaggerUI: swagger)
        let redocPage = page(redoc: redoc)
        let swaggerPolicy = contentSecurityPolicy(assets: swagger, workers: false)
        let redocPolicy = contentSecurityPolicy(assets: redoc, workers: true)
        router.get("/docs") { _, _ in
            response(swaggerPage, type: "text/html; charset=utf-8", policy: swaggerPolicy)
        }
        router.get("/docs/swagger-init.js") { _, _ in
            response(swaggerStart, type: "text/javascript; charset=utf-8", policy: swaggerPolicy)
        }
        router.get("/redoc") { _, _ in
            response(redocPage, type: "text/html; charset=utf-8", policy: redocPolicy)
        }
    }

    /// Scripts and styles from the gateway and the assets' origin; images
    /// also as `data:` URLs (Swagger UI's icons); connections to the gateway
    /// only; no plugins, frames, forms elsewhere or base-URL tricks. Styles
    /// allow inline attributes, which both viewers set on their elements.
    /// ReDoc searches in a worker it makes from a `blob:` URL.
    static func contentSecurityPolicy(assets: DocsAssetsURL, workers: Bool) -> String {
        var directives = [
            "default-src 'none'",
            "script-src 'self' \(assets.origin)",
            "style-src 'self' 'unsafe-inline' \(assets.origin)",
            "img-src 'self' data: \(assets.origin)",
            "font-src 'self' \(assets.origin)",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
        if workers { directives.append("worker-src blob:") }
        return directives.joined(separator: "; ")
    }

    static func page(swaggerUI assets: DocsAssetsURL) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>shop API - Swagger UI</title>
        <link rel="stylesheet" href="\(assets.base)/swagger-ui.css">
        </head>
        <body>
        <div id="swagger-ui"></div>
        <script src="\(assets.base)/swagger-ui-bundle.js"></script>
        <script src="/docs/swagger-init.js"></script>
        </body>
        </html>

        """
    }

    /// Starts Swagger UI on the gateway's document. No validator badge (it
    /// would send the document to a third party); the token entered under
    /// "Authorize" survives a reload.
    static let swaggerStart = """
        window.ui = SwaggerUIBundle({
          url: "/openapi.json",
          dom_id: "#swagger-ui",
          deepLinking: true,
          persistAuthorization: true,
          validatorUrl: null,
          presets: [SwaggerUIBundle.presets.apis],
          layout: "BaseLayout"
        });

        """

    static func page(redoc assets: DocsAssetsURL) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>shop API - ReDoc</title>
        </head>
        <body>
        <redoc spec-url="/openapi.json"></redoc>
        <script src="\(assets.base)/redoc.standalone.js"></script>
        </body>
        </html>

        """
    }

    private static func response(_ text: String, type: String, policy: String) -> Response {
        // The other security headers come from SecurityHeadersMiddleware,
        // which keeps this policy instead of its data-only one.
        var headers: HTTPFields = [.contentType: type]
        headers[.contentSecurityPolicy] = policy
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
