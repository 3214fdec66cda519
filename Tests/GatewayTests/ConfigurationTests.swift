@testable import Gateway
import ServiceSupport
import ShopAuth
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    static let environment: [String: String] = [
        "SHOP_SIGNING_KEY": Tokens.signingKey,
        "SHOP_USER_ADDR": "10.0.0.1:7001",
        "SHOP_PRODUCT_ADDR": "10.0.0.2:7002",
        "SHOP_INVENTORY_ADDR": "10.0.0.3:7003",
        "SHOP_ORDER_ADDR": "10.0.0.4:7004",
        "SHOP_NOTIFICATION_ADDR": "10.0.0.5:7005",
        "SHOP_TLS_CERT": "/etc/shop/tls/tls.crt",
        "SHOP_TLS_KEY": "/etc/shop/tls/tls.key",
        "SHOP_TLS_CA": "/etc/shop/tls/ca.crt",
    ]

    @Test("the gateway's certificate, key and CA come from SHOP_TLS_CERT, SHOP_TLS_KEY and SHOP_TLS_CA")
    func tlsFromEnvironment() throws {
        let tls = try GatewayConfiguration.fromEnvironment(Self.environment).tls
        #expect(tls == .files(certificateChain: "/etc/shop/tls/tls.crt", privateKey: "/etc/shop/tls/tls.key", trustRoots: "/etc/shop/tls/ca.crt"))
    }

    @Test("outside dev mode a gateway without TLS settings is refused in one sentence naming what is missing")
    func tlsRequiredOutsideDevMode() throws {
        var environment = Self.environment
        environment["SHOP_TLS_KEY"] = nil
        environment["SHOP_TLS_CA"] = nil
        let error = #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.fromEnvironment(environment)
        }
        #expect(error?.description.contains("SHOP_TLS_KEY and SHOP_TLS_CA are missing") == true)
    }

    @Test("dev mode refuses a non-loopback address: its secrets are public")
    func devModeStaysOnLoopback() throws {
        var environment = Self.environment
        environment["SHOP_DEV_MODE"] = "true"
        environment["SHOP_GATEWAY_HOST"] = "0.0.0.0"
        let error = #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.fromEnvironment(environment)
        }
        #expect(error?.description.contains("only binds loopback") == true)
    }

    @Test("the environment gives addresses, key and defaults")
    func fromEnvironment() throws {
        let configuration = try GatewayConfiguration.fromEnvironment(Self.environment)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8000)
        #expect(configuration.endpoint(forService: "shop.order.v1.OrderService") == ServiceEndpoint(host: "10.0.0.4", port: 7004))
        #expect(configuration.defaultDeadline == .seconds(5))
        #expect(configuration.bodyLimit == 1_048_576)
        #expect(configuration.corsOrigins.isEmpty)
    }

    @Test("the public development key is refused unless SHOP_DEV_MODE says this is `shop up`")
    func developmentKeyOutsideDevMode() throws {
        var environment = Self.environment
        environment["SHOP_SIGNING_KEY"] = DevelopmentSecrets.signingKey
        let error = #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration.fromEnvironment(environment)
        }
        #expect(error?.description.contains("public development key") == true)
        environment["SHOP_DEV_MODE"] = "true"
        #expect(try GatewayConfiguration.fromEnvironment(environment).signingKey == DevelopmentSecrets.signingKey)
    }

    @Test("settings are read from their SHOP_GATEWAY_* variables")
    func overrides() throws {
        var environment = Self.environment
        environment["SHOP_GATEWAY_HOST"] = "0.0.0.0"
        environment["SHOP_GATEWAY_PORT"] = "9000"
        environment["SHOP_GATEWAY_DEFAULT_DEADLINE_MS"] = "1500"
        environment["SHOP_GATEWAY_CORS_ORIGINS"] = "https://a.example, https://b.example"
        environment["SHOP_GATEWAY_MAX_IN_FLIGHT"] = "7"
        environment["SHOP_GATEWAY_BREAKER_OPEN_MS"] = "250"
        let configuration = try GatewayConfiguration.fromEnvironment(environment)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9000)
        #expect(configuration.defaultDeadline == .milliseconds(1500))
        #expect(configuration.corsOrigins == ["https://a.example", "https://b.example"])
        #expect(configuration.maximumInFlightRequests == 7)
        #expect(configuration.circuitBreaker.openDuration == .milliseconds(250))
    }

    @Test("a missing signing key is a configuration error that names the variable")
    func missingKey() {
        var environment = Self.environment
        environment["SHOP_SIGNING_KEY"] = nil
        #expect { try GatewayConfiguration.fromEnvironment(environment) } throws: { error in
            (error as? ConfigurationError)?.description.contains("SHOP_SIGNING_KEY") == true
        }
    }

    @Test("a malformed value is a configuration error that names the variable", arguments: [
        ("SHOP_GATEWAY_PORT", "eighty"), ("SHOP_USER_ADDR", "nowhere"), ("SHOP_GATEWAY_BREAKER_FAILURE_RATE", "2"),
    ])
    func malformed(_ key: String, _ value: String) {
        var environment = Self.environment
        environment[key] = value
        #expect { try GatewayConfiguration.fromEnvironment(environment) } throws: { error in
            (error as? ConfigurationError)?.description.contains(key) == true
        }
    }

    @Test("the gateway refuses to start without an address for every service of the route table")
    func missingUpstream() throws {
        var environment = Self.environment
        environment["SHOP_ORDER_ADDR"] = nil
        let configuration = try GatewayConfiguration.fromEnvironment(environment)
        #expect { try buildGateway(configuration: configuration) } throws: { error in
            (error as? ConfigurationError)?.description.contains("order") == true
        }
    }

    @Test("the gateway refuses a signing key too short for HS256, without showing it")
    func shortKey() throws {
        var configuration = try GatewayConfiguration.fromEnvironment(Self.environment)
        configuration.signingKey = "tiny-secret"
        #expect { try buildGateway(configuration: configuration) } throws: { error in
            let text = "\(error)"
            return error is ConfigurationError && !text.contains("tiny-secret")
        }
    }

    @Test("full service names are accepted as well as short ones")
    func fullNames() {
        let configuration = GatewayConfiguration(
            signingKey: Tokens.signingKey,
            upstreams: ["shop.user.v1.UserService": ServiceEndpoint(host: "h", port: 1), "user": ServiceEndpoint(host: "other", port: 2)]
        )
        #expect(configuration.endpoint(forService: "shop.user.v1.UserService")?.host == "h")
        #expect(GatewayConfiguration.shortName(ofService: "shop.notification.v1.NotificationService") == "notification")
    }
}
