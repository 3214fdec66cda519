import Foundation
import FrameRPC
import Logging
import ServiceSupport
import ShopAPI
import ShopAuth

extension GatewayConfiguration {
    /// The `SHOP_*` variables ``fromEnvironment(_:logger:)`` reads.
    public enum EnvironmentKey {
        public static let host = "SHOP_GATEWAY_HOST"
        public static let port = "SHOP_GATEWAY_PORT"
        public static let signingKey = "SHOP_SIGNING_KEY"
        public static let defaultDeadline = "SHOP_GATEWAY_DEFAULT_DEADLINE_MS"
        public static let maximumDeadline = "SHOP_GATEWAY_MAX_DEADLINE_MS"
        public static let bodyLimit = "SHOP_GATEWAY_BODY_LIMIT_BYTES"
        public static let corsOrigins = "SHOP_GATEWAY_CORS_ORIGINS"
        public static let maximumInFlight = "SHOP_GATEWAY_MAX_IN_FLIGHT"
        public static let healthTimeout = "SHOP_GATEWAY_HEALTH_TIMEOUT_MS"
        public static let heartbeat = "SHOP_GATEWAY_HEARTBEAT_MS"
        public static let idleTimeout = "SHOP_GATEWAY_IDLE_TIMEOUT_MS"
        public static let accountCache = "SHOP_GATEWAY_ACCOUNT_CACHE_MS"
        public static let breakerWindow = "SHOP_GATEWAY_BREAKER_WINDOW"
        public static let breakerMinimumCalls = "SHOP_GATEWAY_BREAKER_MIN_CALLS"
        public static let breakerFailureRate = "SHOP_GATEWAY_BREAKER_FAILURE_RATE"
        public static let breakerOpen = "SHOP_GATEWAY_BREAKER_OPEN_MS"
        public static let breakerProbes = "SHOP_GATEWAY_BREAKER_PROBES"
        public static let retryAttempts = "SHOP_GATEWAY_RETRY_ATTEMPTS"
        public static let docs = "SHOP_GATEWAY_DOCS"
        public static let compressMinimum = "SHOP_GATEWAY_COMPRESS_MIN_BYTES"
        public static let tlsCertificate = "SHOP_GATEWAY_TLS_CERT"
        public static let tlsKey = "SHOP_GATEWAY_TLS_KEY"
        public static let docsAssets = "SHOP_DOCS_ASSETS_URL"
        public static let redocAssets = "SHOP_REDOC_ASSETS_URL"
        public static let bodyTimeout = "SHOP_GATEWAY_BODY_TIMEOUT_MS"
        public static let maximumConnectionsPerAddress = "SHOP_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS"
        public static let maximumStreamsPerUser = "SHOP_GATEWAY_MAX_STREAMS_PER_USER"
        public static let maximumStreams = "SHOP_GATEWAY_MAX_STREAMS"
        public static let loginAddressBurst = "SHOP_GATEWAY_LOGIN_ADDRESS_BURST"
        public static let loginAddressPerMinute = "SHOP_GATEWAY_LOGIN_ADDRESS_PER_MINUTE"
        public static let loginAccountBurst = "SHOP_GATEWAY_LOGIN_ACCOUNT_BURST"
        public static let loginAccountPerMinute = "SHOP_GATEWAY_LOGIN_ACCOUNT_PER_MINUTE"
        public static let rateLimitKeys = "SHOP_GATEWAY_RATE_LIMIT_KEYS"
        public static let maximumHashingCalls = "SHOP_GATEWAY_MAX_HASHING_CALLS"
        public static let upstreamLimitInitial = "SHOP_GATEWAY_UPSTREAM_LIMIT_INITIAL"
        public static let upstreamLimitMinimum = "SHOP_GATEWAY_UPSTREAM_LIMIT_MIN"
        public static let upstreamLimitMaximum = "SHOP_GATEWAY_UPSTREAM_LIMIT_MAX"

        /// `SHOP_USER_ADDR` for `user`: a service's `HOST:PORT`, list of
        /// them, or `dns://NAME:PORT` (``RPCTarget``).
        public static func address(of service: String) -> String {
            "SHOP_\(service.uppercased())_ADDR"
        }
    }

    /// The configuration from `SHOP_*` variables, as `shop gateway` and
    /// containers start it:
    ///
    /// | variable | meaning | default |
    /// | --- | --- | --- |
    /// | `SHOP_GATEWAY_HOST`, `SHOP_GATEWAY_PORT` | where to listen | `127.0.0.1`, `8000` |
    /// | `SHOP_<NAME>_ADDR` | each service (`SHOP_USER_ADDR`, ...): `HOST:PORT`, `HOST:PORT,HOST:PORT,...` or `dns://NAME:PORT` | required |
    /// | `SHOP_SIGNING_KEY` | the token secret, shared with the user service | required |
    /// | `SHOP_GATEWAY_DEFAULT_DEADLINE_MS`, `SHOP_GATEWAY_MAX_DEADLINE_MS` | deadlines | 5000, 3600000 |
    /// | `SHOP_GATEWAY_BODY_LIMIT_BYTES` | largest body | 1048576 |
    /// | `SHOP_GATEWAY_CORS_ORIGINS` | comma-separated origins, or `*` | none |
    /// | `SHOP_GATEWAY_MAX_IN_FLIGHT` | requests at once before 429 | 1024 |
    /// | `SHOP_GATEWAY_HEALTH_TIMEOUT_MS`, `SHOP_GATEWAY_HEARTBEAT_MS` | health RPC wait, SSE heartbeat | 1000, 15000 |
    /// | `SHOP_GATEWAY_IDLE_TIMEOUT_MS` | a connection silent this long while sending a request, or between requests, is closed | 30000 |
    /// | `SHOP_GATEWAY_ACCOUNT_CACHE_MS` | how long an account's status (active, token version) is trusted; the longest a deactivation, role or password change takes to end older tokens; 0 to 60000 | 2000 |
    /// | `SHOP_GATEWAY_BREAKER_WINDOW`, `_MIN_CALLS`, `_FAILURE_RATE`, `_OPEN_MS`, `_PROBES` | circuit breakers | 20, 10, 0.5, 5000, 3 |
    /// | `SHOP_GATEWAY_RETRY_ATTEMPTS` | attempts per call, first included | 3 |
    /// | `SHOP_GATEWAY_TLS_CERT`, `SHOP_GATEWAY_TLS_KEY` | PEM certificate chain and key: serve HTTPS (HTTP/2 by ALPN, and HTTP/1.1); both or neither | none: plain HTTP |
    /// | `SHOP_GATEWAY_COMPRESS_MIN_BYTES` | smallest response body compressed when the client accepts gzip or deflate; 0 switches compression off | 1024 |
    /// | `SHOP_GATEWAY_DOCS` | serve `/docs` and `/redoc` (`true` or `false`) | `true` |
    /// | `SHOP_DOCS_ASSETS_URL`, `SHOP_REDOC_ASSETS_URL` | where Swagger UI's and ReDoc's files are | jsDelivr's `swagger-ui-dist@5`, `redoc@2/bundles` |
    /// | `SHOP_GATEWAY_BODY_TIMEOUT_MS` | a request's body must arrive within this of its head | 15000 |
    /// | `SHOP_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS` | open connections per client address | 64 |
    /// | `SHOP_GATEWAY_MAX_STREAMS_PER_USER`, `SHOP_GATEWAY_MAX_STREAMS` | SSE streams per user, in all | 4, 100 |
    /// | `SHOP_GATEWAY_LOGIN_ADDRESS_BURST`, `_PER_MINUTE` | password-route attempts per client address | 30, 30 |
    /// | `SHOP_GATEWAY_LOGIN_ACCOUNT_BURST`, `_PER_MINUTE` | failed password-route attempts per account | 10, 5 |
    /// | `SHOP_GATEWAY_RATE_LIMIT_KEYS` | buckets each rate limiter keeps | 100000 |
    /// | `SHOP_GATEWAY_MAX_HASHING_CALLS` | password-route calls in flight to the user service | 16 |
    /// | `SHOP_GATEWAY_UPSTREAM_LIMIT_INITIAL`, `_MIN`, `_MAX` | each upstream's adaptive concurrency limit: start, floor, ceiling | 64, 8, 512 |
    /// | `SHOP_TLS_CERT`, `SHOP_TLS_KEY`, `SHOP_TLS_CA` | the gateway's FrameRPC certificate, key and CA (``TLSSettings``) | required outside dev mode |
    ///
    /// - Throws: ``ConfigurationError`` naming the variable that is missing
    ///   or malformed (never showing the signing key).
    public static func fromEnvironment(
        _ environment: [String: String],
        logger: Logger = Logger(label: "shop.gateway")
    ) throws -> GatewayConfiguration {
        func value(_ key: String) -> String? {
            environment[key].flatMap { $0.isEmpty ? nil : $0 }
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let text = value(key) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigurationError("\(key) must be a whole number between \(range.lowerBound) and \(range.upperBound), not '\(text.prefix(64))'")
            }
            return number
        }
        func milliseconds(_ key: String) throws -> Duration? {
            try integer(key, in: 1...(24 * 3_600_000)).map { .milliseconds($0) }
        }

        guard let signingKey = value(EnvironmentKey.signingKey) else {
            throw ConfigurationError("\(EnvironmentKey.signingKey) is required: the token secret shared with the user service")
        }
        if let refusal = DevelopmentSecrets.refusal(ofSigningKey: signingKey, settings: environment, variable: EnvironmentKey.signingKey) {
            throw ConfigurationError(refusal)
        }
        var upstreams: [String: ServiceEndpoint] = [:]
        var targets: [String: RPCTarget] = [:]
        for service in Set(ShopRoutes.routes.map { shortName(ofService: $0.service) }) {
            let key = EnvironmentKey.address(of: service)
            guard let address = value(key) else { continue }
            let target: RPCTarget
            do {
                target = try RPCTarget(parsing: address)
            } catch {
                throw ConfigurationError("\(key): \(error) (expected HOST:PORT, HOST:PORT,HOST:PORT,... or dns://NAME:PORT)")
            }
            if case .addresses(let addresses) = target, addresses.count == 1 {
                upstreams[service] = ServiceEndpoint(host: addresses[0].host, port: addresses[0].port)
            } else {
                targets[service] = target
            }
        }

        var configuration = GatewayConfiguration(signingKey: signingKey, upstreams: upstreams, upstreamTargets: targets, logger: logger)
        configuration.tls = try TLSSettings.configuration(from: environment)
        configuration.host = value(EnvironmentKey.host) ?? configuration.host
        if let problem = TLSSettings.devModeHostProblem(host: configuration.host, settings: environment) {
            throw ConfigurationError(problem)
        }
        configuration.port = try integer(EnvironmentKey.port, in: 0...65_535) ?? configuration.port
        configuration.defaultDeadline = try milliseconds(EnvironmentKey.defaultDeadline) ?? configuration.defaultDeadline
        configuration.maximumDeadline = try milliseconds(EnvironmentKey.maximumDeadline) ?? configuration.maximumDeadline
        configuration.bodyLimit = try integer(EnvironmentKey.bodyLimit, in: 0...(1 << 30)) ?? configuration.bodyLimit
        if let origins = value(EnvironmentKey.corsOrigins) {
            configuration.corsOrigins = origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        configuration.maximumInFlightRequests = try integer(EnvironmentKey.maximumInFlight, in: 1...1_000_000) ?? configuration.maximumInFlightRequests
        configuration.healthCheckTimeout = try milliseconds(EnvironmentKey.healthTimeout) ?? configuration.healthCheckTimeout
        configuration.heartbeatInterval = try milliseconds(EnvironmentKey.heartbeat) ?? configuration.heartbeatInterval
        configuration.idleTimeout = try milliseconds(EnvironmentKey.idleTimeout) ?? configuration.idleTimeout
        if let cache = try integer(EnvironmentKey.accountCache, in: 0...60_000) {
            configuration.accountStatusCacheDuration = .milliseconds(cache)
        }

        configuration.bodyTimeout = try milliseconds(EnvironmentKey.bodyTimeout) ?? configuration.bodyTimeout
        configuration.maximumConnectionsPerAddress = try integer(EnvironmentKey.maximumConnectionsPerAddress, in: 1...1_000_000) ?? configuration.maximumConnectionsPerAddress
        configuration.maximumStreamsPerUser = try integer(EnvironmentKey.maximumStreamsPerUser, in: 1...100_000) ?? configuration.maximumStreamsPerUser
        configuration.maximumStreams = try integer(EnvironmentKey.maximumStreams, in: 1...100_000) ?? configuration.maximumStreams
        configuration.loginAddressBurst = try integer(EnvironmentKey.loginAddressBurst, in: 1...1_000_000) ?? configuration.loginAddressBurst
        configuration.loginAddressPerMinute = try integer(EnvironmentKey.loginAddressPerMinute, in: 1...1_000_000) ?? configuration.loginAddressPerMinute
        configuration.loginAccountBurst = try integer(EnvironmentKey.loginAccountBurst, in: 1...1_000_000) ?? configuration.loginAccountBurst
        configuration.loginAccountPerMinute = try integer(EnvironmentKey.loginAccountPerMinute, in: 1...1_000_000) ?? configuration.loginAccountPerMinute
        configuration.rateLimitKeys = try integer(EnvironmentKey.rateLimitKeys, in: 1...10_000_000) ?? configuration.rateLimitKeys
        configuration.maximumHashingCalls = try integer(EnvironmentKey.maximumHashingCalls, in: 1...100_000) ?? configuration.maximumHashingCalls

        var breaker = configuration.circuitBreaker
        breaker.windowSize = try integer(EnvironmentKey.breakerWindow, in: 1...10_000) ?? breaker.windowSize
        breaker.minimumCalls = try integer(EnvironmentKey.breakerMinimumCalls, in: 1...10_000) ?? breaker.minimumCalls
        if let text = value(EnvironmentKey.breakerFailureRate) {
            guard let rate = Double(text), rate > 0, rate <= 1 else {
                throw ConfigurationError("\(EnvironmentKey.breakerFailureRate) must be a number in (0, 1], not '\(text.prefix(64))'")
            }
            breaker.failureRateThreshold = rate
        }
        breaker.openDuration = try milliseconds(EnvironmentKey.breakerOpen) ?? breaker.openDuration
        breaker.halfOpenProbes = try integer(EnvironmentKey.breakerProbes, in: 1...1_000) ?? breaker.halfOpenProbes
        configuration.circuitBreaker = breaker
        configuration.retry.maximumAttempts = try integer(EnvironmentKey.retryAttempts, in: 1...10) ?? configuration.retry.maximumAttempts
        switch (value(EnvironmentKey.tlsCertificate), value(EnvironmentKey.tlsKey)) {
        case (let certificate?, let key?):
            configuration.https = GatewayHTTPS(certificateChainPath: certificate, privateKeyPath: key)
        case (nil, nil):
            break
        case (nil, _?):
            throw ConfigurationError("\(EnvironmentKey.tlsKey) is set without \(EnvironmentKey.tlsCertificate): HTTPS needs both")
        case (_?, nil):
            throw ConfigurationError("\(EnvironmentKey.tlsCertificate) is set without \(EnvironmentKey.tlsKey): HTTPS needs both")
        }
        if let minimum = try integer(EnvironmentKey.compressMinimum, in: 0...(1 << 30)) {
            configuration.compression = CompressionPolicy(minimumResponseBytes: max(minimum, 1), compressResponses: minimum > 0)
        }
        if let text = value(EnvironmentKey.docs) {
            switch text.lowercased() {
            case "true", "1", "yes", "on": configuration.docs.enabled = true
            case "false", "0", "no", "off": configuration.docs.enabled = false
            default: throw ConfigurationError("\(EnvironmentKey.docs) must be true or false, not '\(text.prefix(64))'")
            }
        }
        for (key, path) in [(EnvironmentKey.docsAssets, \DocsConfiguration.swaggerUIAssets), (EnvironmentKey.redocAssets, \DocsConfiguration.redocAssets)] {
            guard let text = value(key) else { continue }
            do {
                configuration.docs[keyPath: path] = try DocsAssetsURL(text)
            } catch {
                throw ConfigurationError("\(key): \(error)")
            }
        }
        var concurrency = configuration.upstreamConcurrency
        concurrency.initialLimit = try integer(EnvironmentKey.upstreamLimitInitial, in: 1...100_000) ?? concurrency.initialLimit
        concurrency.minimumLimit = try integer(EnvironmentKey.upstreamLimitMinimum, in: 1...100_000) ?? concurrency.minimumLimit
        concurrency.maximumLimit = try integer(EnvironmentKey.upstreamLimitMaximum, in: 1...100_000) ?? concurrency.maximumLimit
        if value(EnvironmentKey.upstreamLimitInitial) == nil, concurrency.minimumLimit <= concurrency.maximumLimit {
            // Only a floor or ceiling was set: start inside them.
            concurrency.initialLimit = min(max(concurrency.initialLimit, concurrency.minimumLimit), concurrency.maximumLimit)
        }
        configuration.upstreamConcurrency = concurrency

        let problems = configuration.problems(services: [])
        if let first = problems.first { throw ConfigurationError(first) }
        return configuration
    }
}
