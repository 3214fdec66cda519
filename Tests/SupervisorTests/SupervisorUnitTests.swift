import Foundation
import ShopAuth
import Supervisor
import Testing

@Suite("Restart backoff")
struct RestartBackoffTests {
    @Test("delays double from the initial one and stop at the maximum")
    func doublesUpToMaximum() {
        let backoff = RestartBackoff(initial: .milliseconds(250), maximum: .seconds(2), stableAfter: .seconds(60))
        #expect((1...6).map(backoff.delay(beforeRestart:)) == [
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(2), .seconds(2),
        ])
    }
}

@Suite("Port probe")
struct PortProbeTests {
    @Test("a port a server listens on is reported in use, with its number")
    func listeningPortIsTaken() throws {
        let (gateway, _) = try FreePorts.system()
        #expect(PortProbe.problem(host: "127.0.0.1", port: gateway) == nil)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(gateway).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        #expect(PortProbe.problem(host: "127.0.0.1", port: gateway) == "port \(gateway) on 127.0.0.1 is already in use")
    }

    @Test("a host that is not an IPv4 address is a problem, not a crash")
    func badHost() {
        #expect(PortProbe.problem(host: "not an address", port: 8000) == "not an address is not an IPv4 address")
    }
}

@Suite("System plan")
struct SystemPlanTests {
    static func plan(_ environment: [String: String] = [:]) -> SystemPlan {
        SystemPlan(executable: "/bin/shop", gatewayPort: 9000, basePort: 21_000, dataDirectory: "/tmp/shop-data", environment: environment)
    }

    @Test("services start before the gateway, the order service after the four it calls")
    func startOrder() {
        #expect(Self.plan().children.map(\.name) == ["user", "product", "inventory", "notification", "order", "gateway"])
    }

    @Test("service ports follow the base port in the order of their defaults")
    func ports() {
        let ports = Dictionary(uniqueKeysWithValues: Self.plan().ports.map { ($0.name, $0.port) })
        #expect(ports == ["user": 21_000, "product": 21_001, "inventory": 21_002, "order": 21_003, "notification": 21_004, "gateway": 9000])
    }

    @Test("the order service is given the addresses of the four services it calls")
    func orderUpstreams() throws {
        let order = try #require(Self.plan().children.first { $0.name == "order" })
        #expect(order.arguments.contains("user=127.0.0.1:21000"))
        #expect(order.arguments.contains("product=127.0.0.1:21001"))
        #expect(order.arguments.contains("inventory=127.0.0.1:21002"))
        #expect(order.arguments.contains("notification=127.0.0.1:21004"))
        #expect(Array(order.arguments.prefix(2)) == ["serve", "order"])
    }

    @Test("the gateway is given every service's address, its own port and the signing key")
    func gatewayEnvironment() throws {
        let gateway = try #require(Self.plan().children.last)
        #expect(gateway.arguments == ["gateway"])
        #expect(gateway.environment["SHOP_GATEWAY_PORT"] == "9000")
        #expect(gateway.environment["SHOP_NOTIFICATION_ADDR"] == "127.0.0.1:21004")
        #expect(gateway.environment["SHOP_ORDER_ADDR"] == "127.0.0.1:21003")
        #expect(gateway.environment["SHOP_SIGNING_KEY"] == DevelopmentSecrets.signingKey)
    }

    @Test("dev mode fills in only what is not configured")
    func developmentDefaults() {
        #expect(Self.plan().developmentDefaults["SHOP_SIGNING_KEY"] == DevelopmentSecrets.signingKey)
        let configured = Self.plan(["SHOP_SIGNING_KEY": "a-key-of-my-own-that-is-long-enough-000", "SHOP_ADMIN_EMAIL": "a@b.example", "SHOP_ADMIN_PASSWORD": "long password"])
        #expect(configured.developmentDefaults["SHOP_SIGNING_KEY"] == nil)
        #expect(configured.developmentDefaults["SHOP_ADMIN_EMAIL"] == nil)
        let user = configured.children.first { $0.name == "user" }
        #expect(user?.environment["SHOP_SIGNING_KEY"] == "a-key-of-my-own-that-is-long-enough-000")
        #expect(user?.environment["SHOP_DEV_MODE"] == "true")
    }
}
