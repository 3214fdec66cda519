import FrameRPC
@testable import Gateway
import ServiceSupport
import Testing

@Suite("Upstream addresses in the configuration")
struct UpstreamAddressTests {
    static let product = "shop.product.v1.ProductService"

    static func environment(product address: String) -> [String: String] {
        var environment = ConfigurationTests.environment
        environment["SHOP_PRODUCT_ADDR"] = address
        return environment
    }

    @Test("SHOP_<NAME>_ADDR takes a comma-separated list of addresses")
    func list() throws {
        let configuration = try GatewayConfiguration.fromEnvironment(Self.environment(product: "10.0.0.2:7002, 10.0.0.12:7002"))
        #expect(configuration.target(forService: Self.product) == .addresses([
            RPCAddress(host: "10.0.0.2", port: 7002), RPCAddress(host: "10.0.0.12", port: 7002),
        ]))
    }

    @Test("SHOP_<NAME>_ADDR takes dns://NAME:PORT")
    func dns() throws {
        let configuration = try GatewayConfiguration.fromEnvironment(Self.environment(product: "dns://product.shop.svc:7002"))
        #expect(configuration.target(forService: Self.product) == .dns(host: "product.shop.svc", port: 7002))
    }

    @Test("one HOST:PORT stays a plain endpoint")
    func single() throws {
        let configuration = try GatewayConfiguration.fromEnvironment(Self.environment(product: "10.0.0.2:7002"))
        #expect(configuration.endpoint(forService: Self.product) == ServiceEndpoint(host: "10.0.0.2", port: 7002))
        #expect(configuration.target(forService: Self.product) == .address(host: "10.0.0.2", port: 7002))
    }

    @Test("a bad address is a configuration error naming the variable and the problem", arguments: [
        ("10.0.0.2:7002,", "empty entry"), ("dns://product", "no port"), ("ftp://a:1", "unknown scheme"), ("a:70000", "between 1 and 65535"),
    ])
    func bad(_ address: String, _ problem: String) {
        #expect { try GatewayConfiguration.fromEnvironment(Self.environment(product: address)) } throws: { error in
            let text = (error as? ConfigurationError)?.description ?? ""
            return text.contains("SHOP_PRODUCT_ADDR") && text.contains(problem)
        }
    }

    @Test("a target wins over a plain endpoint for the same service")
    func targetWins() {
        let configuration = GatewayConfiguration(
            signingKey: Tokens.signingKey,
            upstreams: ["product": ServiceEndpoint(host: "old", port: 1)],
            upstreamTargets: ["product": .dns(host: "new", port: 2)]
        )
        #expect(configuration.target(forService: Self.product) == .dns(host: "new", port: 2))
    }
}
