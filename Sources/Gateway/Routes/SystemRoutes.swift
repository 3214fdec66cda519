import Hummingbird
import RESTTranscoding
import ShopAPI
import ShopObservability

/// The routes that are the gateway's own rather than the route table's:
/// `GET /`, `GET /health`, `GET /health/ready`, `GET /health/live`,
/// `GET /metrics` and `GET /openapi.json`.
///
/// Three health answers for three questions: `/health` is the whole
/// system (200 only while every service is healthy and no circuit is
/// open: for operators and dashboards); `/health/ready` is whether this
/// gateway can serve (200 while any one service is usable: for load
/// balancers and readiness probes); `/health/live` is whether the process
/// answers at all (for liveness and startup probes).
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
        // Readiness for load balancers: can this gateway serve at all (any
        // one service reachable, HealthReport.isReady)? One service down
        // must not take every gateway out of rotation.
        router.get("/health/ready") { _, _ in
            let report = await HealthReport.check(upstreams.all, timeout: healthCheckTimeout)
            return json(report.isReady ? .ok : .serviceUnavailable, report.readinessJSON)
        }
        // Liveness: the process answers HTTP. It asks no service, so an
        // outage behind the gateway never gets it restarted.
        router.get("/health/live") { _, _ in
            json(.ok, JSONValue.object([("status", .string("alive"))]).serialized)
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
