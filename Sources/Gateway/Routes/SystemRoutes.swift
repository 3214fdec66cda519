import Hummingbird
import RESTTranscoding
import ShopAPI
import ShopObservability

/// The routes that are the gateway's own rather than the route table's:
/// `GET /`, `GET /health`, `GET /metrics` and `GET /openapi.json`.
///
/// `/health` answers everyone with the bare readiness status
/// (`{"status":"healthy"}` 200, or `{"status":"degraded"}` 503) and only a
/// request with a valid admin bearer token with the detail (services,
/// circuits, endpoint addresses, calls in flight, concurrency limits): the
/// detail maps the internal network, which is no business of the public.
enum SystemRoutes {
    static func register(
        on router: Router<GatewayRequestContext>,
        upstreams: UpstreamDirectory,
        authenticator: Authenticator,
        healthCheckTimeout: Duration,
        metrics: MetricsRegistry
    ) {
        router.get("/") { _, _ in
            json(.ok, JSONValue.object([("message", .string("API Gateway is running"))]).serialized)
        }
        router.get("/health") { request, _ in
            let report = await HealthReport.check(upstreams.all, timeout: healthCheckTimeout)
            let body = await isAdmin(request, authenticator) ? report.json : report.statusJSON
            return json(report.isHealthy ? .ok : .serviceUnavailable, body)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: MetricsRegistry.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
        router.get("/openapi.json") { _, _ in
            json(.ok, Array(ShopRoutes.openAPIDocument.utf8))
        }
    }

    /// Whether the request carries a valid admin token: only such a caller
    /// sees `/health`'s detail. The account is not asked about (as routes
    /// ask the user service): the detail must stay readable when the user
    /// service is the one that is down, so a demoted admin's token shows it
    /// until the token expires (at most `SHOP_TOKEN_TTL_SECONDS`).
    private static func isAdmin(_ request: Request, _ authenticator: Authenticator) async -> Bool {
        (try? await authenticator.authorize(.admin, authorization: request.headers[.authorization])) != nil
    }

    static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
