import FrameRPC
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import RESTTranscoding
import ServiceSupport
import ShopAPI
import ShopAuth

/// Builds the HTTP front door of the shop: the REST API of API.md, served
/// from the generated route table (`ShopRoutes.routes`) over FrameRPC calls
/// to the five services.
///
/// Every route of the table is registered from its description, none by
/// hand; a collection answers with and without its trailing slash
/// (`/api/users` and `/api/users/`). Around the routes, outermost first:
/// ``SecurityHeadersMiddleware`` (nosniff, CSP, referrer policy, HSTS over
/// TLS), ``HTTPMetricsMiddleware`` (request counts and latency by route
/// template), CORS (when origins are configured),
/// ``ResponseCompressionMiddleware`` (gzip or deflate when asked),
/// ``RequestEnvelopeMiddleware`` (request id and trace context, JSON
/// errors, `X-Process-Time`, access log), ``RequestDecompressionMiddleware``
/// (compressed bodies, limited after inflating) and ``InFlightLimitMiddleware``
/// (429 past the limit). Below HTTP, every connection (every stream, over
/// HTTP/2) passes ``ConnectionGuardHandler``: a cap per client address, and
/// a bound on the time to receive a request's body. The gateway's own routes are `GET /`,
/// `GET /health`, `GET /metrics` (Prometheus text of
/// ``GatewayConfiguration/metrics``), `GET /openapi.json`, and the docs
/// pages `GET /docs` and `GET /redoc` (``DocsPages``) unless switched off.
///
/// The application is a `Service`: run it with `runService()` or inside a
/// `ServiceGroup`; on shutdown it stops accepting requests and closes its
/// upstream connections.
///
/// ```swift
/// let configuration = try GatewayConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
/// try await buildGateway(configuration: configuration).runService()
/// ```
///
/// - Parameter onListening: called with the bound port once the server
///   accepts connections (`shop gateway` prints its ready line then).
/// - Throws: ``ConfigurationError`` when the configuration cannot be served
///   with: a signing key shorter than 32 bytes, a service of the route table
///   without an address, a limit out of range.
public func buildGateway(
    configuration: GatewayConfiguration,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try makeGateway(configuration: configuration, onListening: onListening).application
}

/// ``buildGateway(configuration:)``, with the upstreams it calls, whose
/// breakers and open streams tests look at.
func makeGateway(
    configuration: GatewayConfiguration,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> (application: some ApplicationProtocol, upstreams: UpstreamDirectory) {
    let routes = ShopRoutes.routes
    let services = Array(Set(routes.map(\.service))).sorted()
    let problems = configuration.problems(services: services)
    guard problems.isEmpty else {
        throw ConfigurationError("the gateway cannot start: " + problems.joined(separator: "; "))
    }
    let upstreams = UpstreamDirectory(services: services, configuration: configuration)
    guard let users = upstreams.upstream(forService: UserServiceMethod.serviceName) else {
        throw ConfigurationError("the gateway cannot start: the route table has no user service to check tokens with")
    }
    let authenticator: Authenticator
    do {
        authenticator = try Authenticator(
            signingKey: configuration.signingKey,
            accounts: AccountCheck(cacheDuration: configuration.accountStatusCacheDuration, lookup: accountStatusLookup(users))
        )
    } catch {
        throw ConfigurationError("\(GatewayConfiguration.EnvironmentKey.signingKey): \(error)")
    }
    let core = GatewayCore(
        authenticator: authenticator,
        deadlines: DeadlinePolicy(defaultDeadline: configuration.defaultDeadline, maximum: configuration.maximumDeadline),
        bodyLimit: configuration.bodyLimit,
        heartbeatInterval: configuration.heartbeatInterval,
        streams: StreamBudget(policy: configuration.streamPolicy),
        passwordRoutes: PasswordRouteGuard(policy: configuration.passwordRoutePolicy),
        logger: configuration.logger
    )
    let connections = ConnectionLimiter(maximumPerAddress: configuration.maximumConnectionsPerAddress)
    let bodyTimeout = TimeAmount(configuration.bodyTimeout)

    // Every GET route answers HEAD too (its responder, the body dropped by
    // HeadResponseMiddleware), once all routes are added.
    let router = Router(context: GatewayRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Middleware applies to the routes added after it, so it goes first.
    router.add(middleware: HeadResponseMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(servesTLS: configuration.https != nil))
    router.add(middleware: HTTPMetricsMiddleware(metrics: configuration.metrics))
    if !configuration.corsOrigins.isEmpty {
        router.add(middleware: CORSPolicyMiddleware(origins: configuration.corsOrigins))
    }
    router.add(middleware: ResponseCompressionMiddleware(policy: configuration.compression))
    router.add(middleware: RequestEnvelopeMiddleware(logger: configuration.logger))
    router.add(middleware: RequestDecompressionMiddleware(bodyLimit: configuration.bodyLimit))
    let systemPaths = ["/", "/health", "/metrics", "/openapi.json"]
        + (configuration.docs.enabled ? ["/docs", "/docs/swagger-init.js", "/redoc"] : [])
    router.add(middleware: MethodNotAllowedMiddleware(methods: AllowedMethods(
        routes.map { ($0.path, $0.verb.name) } + systemPaths.map { ($0, "GET") }
    )))
    let inFlight = InFlightLimiter(limit: configuration.maximumInFlightRequests)
    router.add(middleware: InFlightLimitMiddleware(limiter: inFlight, metrics: configuration.metrics))

    SystemRoutes.register(on: router, upstreams: upstreams, authenticator: authenticator, healthCheckTimeout: configuration.healthCheckTimeout, metrics: configuration.metrics)
    DocsPages.register(on: router, configuration: configuration.docs)
    for route in routes {
        guard let upstream = upstreams.upstream(forService: route.service),
              let method = HTTPRequest.Method(route.verb.name) else { continue }
        router.on(RouterPath(route.path), method: method, responder: RESTEndpoint(route: route, upstream: upstream, core: core))
    }

    let server: HTTPServerBuilder
    if let https = configuration.https {
        let certificate = try EdgeCertificate(https, logger: configuration.logger)
        let idle = configuration.idleTimeout
        server = try .http2Upgrade(
            tlsConfiguration: certificate.configuration,
            configuration: .init(
                idleTimeout: idle,
                streamConfiguration: .init(
                    additionalChannelHandlers: [ConnectionGuardHandler(limiter: connections, bodyTimeout: bodyTimeout)],
                    idleTimeout: TimeAmount(idle)
                )
            )
        )
    } else {
        server = .http1(configuration: .init(
            additionalChannelHandlers: [ConnectionGuardHandler(limiter: connections, bodyTimeout: bodyTimeout)],
            idleTimeout: TimeAmount(configuration.idleTimeout)
        ))
    }
    let application = Application(
        router: router,
        server: server,
        // A burst of thousands of connections must wait in the kernel's
        // queue, not have its SYNs dropped into client-side timeouts.
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), backlog: 4096),
        services: [upstreams, MemoryReclaimer { inFlight.inFlight }],
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: configuration.logger
    )
    return (application, upstreams)
}

/// Asks the user service for an account's status (`GetAccountStatus`, a
/// call only the gateway's certificate may make), on the upstream's own
/// client with a short deadline; NOT_FOUND means no such account.
func accountStatusLookup(_ users: Upstream) -> AccountCheck.Lookup {
    let client = UserServiceClient(users.client)
    return { userID in
        do {
            let status = try await client.getAccountStatus(.with { $0.id = userID }, options: CallOptions(timeout: .seconds(1)))
            return AccountCheck.Status(isActive: status.isActive, tokenVersion: status.tokenVersion)
        } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
            return nil
        }
    }
}
