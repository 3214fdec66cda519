import Hummingbird
import RESTTranscoding
import ShopAPI
import ShopObservability

/// The routes that are the gateway's own rather than the route table's:
/// `GET /`, `GET /health`, `GET /metrics` and `GET /openapi.json`.
enum SystemRoutes {
    static func register(
        on router: Router<GatewayRequestContext>,
        upstreams: UpstreamDirectory,
        healthCheckTimeout: Duration,
        metrics: MetricsRegistry
    ) {
        router.get("/") { _, _ in
            json(.ok, JSONValue.object([("message", .string("API Gateway is running"))]).serialized)
        }
        router.get("/health") { _, _ in
            let report = await HealthReport.check(upstreams.all, timeout: healthCheckTimeout)
            return json(report.isHealthy ? .ok : .serviceUnavailable, report.json)
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

    static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
