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

    /// Whether the request carries an admin's token whose account still
    /// stands behind it: only such a caller sees `/health`'s detail.
    private static func isAdmin(_ request: Request, _ authenticator: Authenticator) async -> Bool {
        guard let identity = try? await authenticator.authorize(.admin, authorization: request.headers[.authorization]) else {
            return false
        }
        do {
            try await authenticator.confirmAccount(of: identity)
            return true
        } catch {
            return false
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
