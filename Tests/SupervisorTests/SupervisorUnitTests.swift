import Foundation
import FrameRPC
import ShopAuth
import ShopCertificates
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

    static func replicated(_ replicas: Int, databaseURL: String? = "postgres://shop:s3cret@127.0.0.1:5432/shop") -> SystemPlan {
        SystemPlan(executable: "/bin/shop", gatewayPort: 9000, basePort: 21_000, replicas: replicas, databaseURL: databaseURL, dataDirectory: "/tmp/shop-data", environment: [:])
    }

    @Test("with --replicas 2 each service gets a block of two consecutive ports, in the order of the default ports")
    func replicaPorts() {
        let ports = Dictionary(uniqueKeysWithValues: Self.replicated(2).ports.map { ($0.name, $0.port) })
        #expect(ports == [
            "user-1": 21_000, "user-2": 21_001, "product-1": 21_002, "product-2": 21_003,
            "inventory-1": 21_004, "inventory-2": 21_005, "order-1": 21_006, "order-2": 21_007,
            "notification-1": 21_008, "notification-2": 21_009, "gateway": 9000,
        ])
    }

    @Test("no two processes share a port, for any replica count", arguments: [1, 2, 3, 7, SystemPlan.maximumReplicas])
    func replicaPortsNeverCollide(replicas: Int) {
        let plan = Self.replicated(replicas)
        let ports = plan.ports.map(\.port)
        #expect(Set(ports).count == ports.count)
        #expect(plan.instances.count == SystemPlan.services.count * replicas)
        let servicePorts = plan.instances.map(\.port).sorted()
        #expect(servicePorts == Array(21_000..<(21_000 + SystemPlan.services.count * replicas)), "consecutive from the base port")
    }

    @Test("replicas start service by service, the order service's after the four it calls, and each is probed on its own port")
    func replicaStartOrder() {
        let children = Self.replicated(2).children
        #expect(children.map(\.name) == [
            "user-1", "user-2", "product-1", "product-2", "inventory-1", "inventory-2",
            "notification-1", "notification-2", "order-1", "order-2", "gateway",
        ])
        for (child, instance) in zip(children, Self.replicated(2).instances) {
            guard case .healthRPC(_, let port) = child.readiness else {
                Issue.record("\(child.name) is not probed by its health RPC")
                continue
            }
            #expect(port == instance.port, "\(child.name)")
            #expect(child.arguments.prefix(6) == ["serve", instance.service, "--host", "127.0.0.1", "--port", String(instance.port)], "\(child.name)")
        }
    }

    @Test("every order replica and the gateway get the address list of every replica of each service")
    func replicaAddressLists() throws {
        let children = Self.replicated(2).children
        for order in children.filter({ $0.name.hasPrefix("order-") }) {
            #expect(order.arguments.contains("user=127.0.0.1:21000,127.0.0.1:21001"), "\(order.arguments)")
            #expect(order.arguments.contains("inventory=127.0.0.1:21004,127.0.0.1:21005"))
            #expect(order.arguments.contains("notification=127.0.0.1:21008,127.0.0.1:21009"))
        }
        let gateway = try #require(children.last)
        #expect(gateway.environment["SHOP_ORDER_ADDR"] == "127.0.0.1:21006,127.0.0.1:21007")
        #expect(gateway.environment["SHOP_PRODUCT_ADDR"] == "127.0.0.1:21002,127.0.0.1:21003")
        for name in SystemPlan.services.map(\.name) {
            let address = try #require(gateway.environment["SHOP_\(name.uppercased())_ADDR"])
            #expect((try? RPCTarget(parsing: address)) != nil, "\(address) parses as a FrameRPC target")
        }
    }

    @Test("every service process gets SHOP_DATABASE_URL and its own service's certificate; without a URL none does")
    func databaseURLReachesEveryService() {
        let plan = SystemPlan(
            executable: "/bin/shop", basePort: 21_000, replicas: 2, databaseURL: "postgres://shop:s3cret@db:5432/shop",
            dataDirectory: "/tmp/shop-data", environment: [:], certificates: ServiceCertificates(directory: "/tmp/shop-data/certs")
        )
        for child in plan.children where child.name != "gateway" {
            #expect(child.environment["SHOP_DATABASE_URL"] == "postgres://shop:s3cret@db:5432/shop", "\(child.name)")
            let service = String(child.name.split(separator: "-")[0])
            #expect(child.environment["SHOP_TLS_CERT"] == "/tmp/shop-data/certs/\(service).pem", "\(child.name)")
        }
        #expect(Self.plan().children.allSatisfy { $0.environment["SHOP_DATABASE_URL"] == nil })
    }

    @Test("more than one replica without a database URL is refused in one sentence saying why; one replica or a PostgreSQL URL is fine")
    func replicasNeedADatabase() throws {
        let problem = try #require(SystemPlan.replicaProblem(replicas: 2, databaseURL: nil))
        #expect(problem.hasPrefix("--replicas 2 needs --database-url"))
        #expect(problem.contains("SQLite file that only one process may write"))
        #expect(SystemPlan.replicaProblem(replicas: 1, databaseURL: nil) == nil)
        #expect(SystemPlan.replicaProblem(replicas: 3, databaseURL: "postgresql://a:b@h/db") == nil)
        #expect(SystemPlan.replicaProblem(replicas: 0, databaseURL: "postgres://h/db") != nil)
        #expect(SystemPlan.replicaProblem(replicas: SystemPlan.maximumReplicas + 1, databaseURL: "postgres://h/db") != nil)
        let wrongScheme = try #require(SystemPlan.replicaProblem(replicas: 2, databaseURL: "mysql://root:hunter2@h/db"))
        #expect(wrongScheme.contains("must be a PostgreSQL URL"))
        #expect(!wrongScheme.contains("hunter2"), "the password is not repeated: \(wrongScheme)")
    }

    @Test("a printed database URL has its password replaced, and nothing else changed")
    func redaction() {
        #expect(SystemPlan.redacted("postgres://shop:s3cret@db:5432/shop") == "postgres://shop:***@db:5432/shop")
        #expect(SystemPlan.redacted("postgres://shop:p@ss@db/shop?sslmode=require") == "postgres://shop:***@db/shop?sslmode=require")
        #expect(SystemPlan.redacted("postgres://shop@db/shop") == "postgres://shop@db/shop")
        #expect(SystemPlan.redacted("postgres://db/a@b") == "postgres://db/a@b")
    }
}
