import FrameRPC
import Logging
import ServiceSupport
import ShopObservability

/// Everything the gateway needs to serve: where it listens, where each
/// upstream service is, the token signing key, and its limits.
///
/// The defaults are the API's promises (API.md): a 5 s deadline unless a
/// route says otherwise, 1 MiB bodies. ``buildGateway(configuration:)``
/// checks the configuration and refuses one it cannot serve with (a short
/// key, a service of the route table without an address).
///
/// ```swift
/// var configuration = GatewayConfiguration(
///     signingKey: key,
///     upstreams: ["user": ServiceEndpoint(host: "127.0.0.1", port: 7001), ...],
///     upstreamTargets: ["product": try RPCTarget(parsing: "dns://product.shop.svc:7002")]
/// )
/// configuration.port = 8000
/// let app = try buildGateway(configuration: configuration)
/// try await app.runService()
/// ```
public struct GatewayConfiguration: Sendable {
    /// The address to listen on.
    public var host: String
    /// The port to listen on; 0 lets the system choose.
    public var port: Int
    /// Where each service is, keyed by its short name (`user`) or its full
    /// name (`shop.user.v1.UserService`); the full name wins when both are set.
    public var upstreams: [String: ServiceEndpoint]
    /// Services at several addresses or a DNS name (``RPCTarget``), keyed
    /// like ``upstreams``; for a service in both, this wins.
    public var upstreamTargets: [String: RPCTarget]
    /// The HS256 secret shared with the user service, which issues tokens
    /// (at least 32 bytes). Never logged.
    public var signingKey: String
    /// The deadline of a route that sets none of its own.
    public var defaultDeadline: Duration
    /// No request gets more time than this, whatever its route says.
    public var maximumDeadline: Duration
    /// The largest request body accepted, in bytes; larger ones are 413.
    public var bodyLimit: Int
    /// Browser origins allowed to call the API (`https://shop.example`);
    /// `*` allows any. Empty: no CORS headers at all.
    public var corsOrigins: [String]
    /// Requests handled at once; beyond this the gateway answers 429.
    /// A Server-Sent Events stream counts until its headers are sent.
    public var maximumInFlightRequests: Int
    /// How long `GET /health` waits for each service's health RPC.
    public var healthCheckTimeout: Duration
    /// How often an idle Server-Sent Events stream gets a comment line, so
    /// proxies and clients do not take it for dead.
    public var heartbeatInterval: Duration
    /// A connection that sends nothing for this long while its request is
    /// being read, or between requests, is closed: a slow or silent client
    /// cannot hold a connection (and its memory) forever. Responses being
    /// written, Server-Sent Events included, are not cut.
    public var idleTimeout: Duration
    /// A request whose body has not wholly arrived this long after its head
    /// is cut off (408, connection closed), however steadily it trickles in.
    public var bodyTimeout: Duration
    /// Open connections from one client address; beyond it a connection is
    /// closed as soon as it is accepted.
    public var maximumConnectionsPerAddress: Int
    /// Server-Sent Events streams open at once per user, and in all (429
    /// beyond either): kept well below an upstream connection's call limit
    /// (FrameRPC's 256), so streams never take the slots of unary calls or
    /// health checks.
    public var maximumStreamsPerUser: Int
    public var maximumStreams: Int
    /// Password routes (login, registration): token buckets per client
    /// address and per account (burst, then so many per minute; a
    /// successful attempt does not count against its account), the buckets
    /// each limiter keeps, and the hashing calls in flight to the user
    /// service. 429 with `Retry-After` beyond any of them.
    public var loginAddressBurst: Int
    public var loginAddressPerMinute: Int
    public var loginAccountBurst: Int
    public var loginAccountPerMinute: Int
    public var rateLimitKeys: Int
    public var maximumHashingCalls: Int
    /// How long the gateway trusts an account's status (active, token
    /// version) once the user service told it: the longest a deactivation,
    /// role change or password change can take to end older tokens. Zero
    /// asks on every authenticated request.
    public var accountStatusCacheDuration: Duration
    /// When an upstream's circuit opens and closes again.
    public var circuitBreaker: CircuitBreaker.Policy
    /// When and how often a failed call is tried again.
    public var retry: RetryPolicy
    /// `/docs` and `/redoc`: on, and where their assets come from.
    public var docs = DocsConfiguration()
    /// How each upstream's adaptive concurrency limit moves: calls to one
    /// upstream beyond it are shed at once with 503 and `Retry-After`.
    public var upstreamConcurrency = AdaptiveConcurrencyLimit.Policy()
    /// When responses are compressed.
    public var compression = CompressionPolicy()
    /// HTTPS with HTTP/2 for clients; `nil` serves plain HTTP/1.1 (behind
    /// an ingress that terminates TLS, or on loopback for `shop up`).
    public var https: GatewayHTTPS?
    /// The gateway's logger; access lines go to it at `info`.
    public var logger: Logger
    /// Where the gateway records its metrics and what `GET /metrics`
    /// serves: the process's registry unless a test gives its own.
    public var metrics: MetricsRegistry
    /// The gateway's FrameRPC identity (its certificate, key and the trust
    /// roots): every upstream connection is mutual TLS, and an upstream is
    /// accepted only if its certificate names the service the gateway
    /// meant to call. `nil`: plaintext (dev mode without certificates, tests
    /// of plaintext).
    public var tls: RPCTLSConfiguration?

    public init(
        signingKey: String,
        upstreams: [String: ServiceEndpoint],
        upstreamTargets: [String: RPCTarget] = [:],
        host: String = "127.0.0.1",
        port: Int = 8000,
        defaultDeadline: Duration = .seconds(5),
        maximumDeadline: Duration = .seconds(3600),
        bodyLimit: Int = 1024 * 1024,
        corsOrigins: [String] = [],
        maximumInFlightRequests: Int = 1024,
        healthCheckTimeout: Duration = .seconds(1),
        heartbeatInterval: Duration = .seconds(15),
        idleTimeout: Duration = .seconds(30),
        bodyTimeout: Duration = .seconds(15),
        maximumConnectionsPerAddress: Int = 64,
        maximumStreamsPerUser: Int = 4,
        maximumStreams: Int = 100,
        loginAddressBurst: Int = 30,
        loginAddressPerMinute: Int = 30,
        loginAccountBurst: Int = 10,
        loginAccountPerMinute: Int = 5,
        rateLimitKeys: Int = 100_000,
        maximumHashingCalls: Int = 16,
        accountStatusCacheDuration: Duration = .seconds(2),
        circuitBreaker: CircuitBreaker.Policy = CircuitBreaker.Policy(),
        retry: RetryPolicy = RetryPolicy(),
        logger: Logger = Logger(label: "shop.gateway"),
        metrics: MetricsRegistry = .shared,
        tls: RPCTLSConfiguration? = nil
    ) {
        self.metrics = metrics
        self.tls = tls
        self.signingKey = signingKey
        self.upstreams = upstreams
        self.upstreamTargets = upstreamTargets
        self.host = host
        self.port = port
        self.defaultDeadline = defaultDeadline
        self.maximumDeadline = maximumDeadline
        self.bodyLimit = bodyLimit
        self.corsOrigins = corsOrigins
        self.maximumInFlightRequests = maximumInFlightRequests
        self.healthCheckTimeout = healthCheckTimeout
        self.heartbeatInterval = heartbeatInterval
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
        self.maximumStreamsPerUser = maximumStreamsPerUser
        self.maximumStreams = maximumStreams
        self.loginAddressBurst = loginAddressBurst
        self.loginAddressPerMinute = loginAddressPerMinute
        self.loginAccountBurst = loginAccountBurst
        self.loginAccountPerMinute = loginAccountPerMinute
        self.rateLimitKeys = rateLimitKeys
        self.maximumHashingCalls = maximumHashingCalls
        self.accountStatusCacheDuration = accountStatusCacheDuration
        self.circuitBreaker = circuitBreaker
        self.retry = retry
        self.logger = logger
    }

    /// The address of a service given its full name: by full name, else by
    /// its short name (`shop.user.v1.UserService` is `user`). Only services
    /// at one address (``upstreams``); see ``target(forService:)``.
    public func endpoint(forService fullName: String) -> ServiceEndpoint? {
        upstreams[fullName] ?? upstreams[Self.shortName(ofService: fullName)]
    }

    /// Where a service is, given its full name: ``upstreamTargets`` first,
    /// then ``upstreams``, each by full name, else by short name.
    public func target(forService fullName: String) -> RPCTarget? {
        let short = Self.shortName(ofService: fullName)
        if let target = upstreamTargets[fullName] ?? upstreamTargets[short] { return target }
        return endpoint(forService: fullName).map { .address(host: $0.host, port: $0.port) }
    }

    /// `user` for `shop.user.v1.UserService`: the package's second part, the
    /// name `shop serve` and the `SHOP_<NAME>_ADDR` variables use.
    public static func shortName(ofService fullName: String) -> String {
        let parts = fullName.split(separator: ".")
        return parts.count >= 3 ? String(parts[1]) : fullName
    }

    /// Why this configuration cannot be served, or `nil` when it can.
    func problems(services: [String]) -> [String] {
        var problems: [String] = []
        if !(0...65_535).contains(port) { problems.append("the port must be between 0 and 65535, not \(port)") }
        for service in services {
            if case .addresses(let addresses) = target(forService: service), addresses.isEmpty {
                problems.append("the \(Self.shortName(ofService: service)) service has an empty address list")
            }
        }
        for service in services where target(forService: service) == nil {
            let short = Self.shortName(ofService: service)
            problems.append("no address for the \(short) service (SHOP_\(short.uppercased())_ADDR)")
        }
        if defaultDeadline <= .zero { problems.append("the default deadline must be positive") }
        if maximumDeadline <= .zero { problems.append("the maximum deadline must be positive") }
        if bodyLimit < 0 { problems.append("the body limit must not be negative") }
        if maximumInFlightRequests < 1 { problems.append("the in-flight limit must be at least 1") }
        if healthCheckTimeout <= .zero { problems.append("the health check timeout must be positive") }
        if heartbeatInterval <= .zero { problems.append("the heartbeat interval must be positive") }
        if idleTimeout <= .zero { problems.append("the idle timeout must be positive") }
        if bodyTimeout <= .zero { problems.append("the body timeout must be positive") }
        if maximumConnectionsPerAddress < 1 { problems.append("the connections per address must be at least 1") }
        problems += streamPolicy.problems + passwordRoutePolicy.problems
        problems += circuitBreaker.problems + retry.problems + upstreamConcurrency.problems
        if accountStatusCacheDuration < .zero || accountStatusCacheDuration > .seconds(60) {
            problems.append("the account status cache duration must be between 0 and 60 s")
        }
        problems += circuitBreaker.problems + retry.problems
        return problems
    }
}

extension GatewayConfiguration {
    var streamPolicy: StreamBudget.Policy {
        StreamBudget.Policy(perUser: maximumStreamsPerUser, total: maximumStreams)
    }

    var passwordRoutePolicy: PasswordRouteGuard.Policy {
        PasswordRouteGuard.Policy(
            perAddress: TokenBucket.Policy(capacity: loginAddressBurst, refillPerMinute: loginAddressPerMinute),
            perAccount: TokenBucket.Policy(capacity: loginAccountBurst, refillPerMinute: loginAccountPerMinute),
            maximumKeys: rateLimitKeys,
            maximumHashingCalls: maximumHashingCalls
        )
    }
}
