import FrameRPC
import FrameRPCObservability
import Logging
import ServiceLifecycle

/// Every upstream the route table needs, by full service name, built from
/// the configuration's addresses: one balanced client and retry budget
/// each, a breaker per endpoint.
///
/// As a `Service` it only waits for shutdown, then closes the clients, so
/// the gateway's application closes its upstream connections when it stops.
public final class UpstreamDirectory: Service, Sendable {
    private let upstreams: [String: Upstream]

    /// Services without an address get no upstream; ``buildGateway(configuration:)``
    /// refuses such a configuration before it gets here.
    init(services: [String], configuration: GatewayConfiguration) {
        var upstreams: [String: Upstream] = [:]
        for service in services {
            guard let target = configuration.target(forService: service) else { continue }
            let name = GatewayConfiguration.shortName(ofService: service)
            var logger = configuration.logger
            logger[metadataKey: "upstream"] = "\(name)"
            upstreams[service] = Upstream(
                name: name,
                serviceName: service,
                client: RPCClient(
                    target: target,
                    configuration: RPCClient.Configuration(tls: configuration.tls?.requiringServerIdentity(PeerIdentity.serviceURI(name))),
                    interceptors: RPCObservability.clientInterceptors(metrics: configuration.metrics),
                    logger: logger
                ),
                breaker: configuration.circuitBreaker,
                retry: configuration.retry,
                metrics: configuration.metrics
            )
        }
        self.upstreams = upstreams
    }

    /// The upstream serving `service` (a full name).
    public func upstream(forService service: String) -> Upstream? {
        upstreams[service]
    }

    /// All upstreams, by short name.
    public var all: [Upstream] {
        upstreams.values.sorted { $0.name < $1.name }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        for upstream in upstreams.values { upstream.client.shutdown() }
    }
}
