import Foundation
import FrameRPC
import ShopAuth
import ShopCertificates

/// The whole system on one machine, as `shop up` starts it: which children,
/// on which ports, with which settings.
///
/// Services start in dependency order (the order service last, since it
/// calls the other four) and the gateway after them; the supervisor stops
/// them in the reverse order, gateway first. Every child is the same
/// `shop` executable: `shop serve <name>` or `shop gateway`.
public struct SystemPlan: Sendable {
    /// The services in start order, with their default ports (`shop serve`
    /// uses the same defaults).
    public static let services: [(name: String, port: Int)] = [
        ("user", 7001), ("product", 7002), ("inventory", 7003), ("notification", 7005), ("order", 7004),
    ]
    /// The services the order service calls.
    public static let orderUpstreams = ["user", "product", "inventory", "notification"]

    /// The `shop` executable the children run.
    public var executable: String
    /// The loopback address every child binds.
    public var host: String
    public var gatewayPort: Int
    /// Each service's port, by name.
    public var servicePorts: [String: Int]
    public var dataDirectory: String
    /// The environment the children inherit (this process's); `SHOP_*`
    /// settings in it reach every child.
    public var environment: [String: String]
    /// The supervisor's pid, which children watch so they never outlive it.
    public var supervisorPID: Int32 = getpid()
    /// The folder with the CA and one certificate per process
    /// (``ServiceCertificates``): each child gets `SHOP_TLS_CERT`,
    /// `SHOP_TLS_KEY` and `SHOP_TLS_CA` for its own, and the supervisor's
    /// health probes present the probed service's own certificate (as a
    /// Kubernetes probe inside its pod does). `nil`: plaintext.
    public var certificates: ServiceCertificates?
    /// Whether the gateway serves HTTPS (HTTP/2 and HTTP/1.1) with its own
    /// development certificate (DNS name `localhost`), which clients verify
    /// against the development CA. Needs ``certificates``.
    public var servesHTTPS = false

    /// - Parameter basePort: the user service's port; the others follow it
    ///   in the order of their default ports (7001 gives 7001...7005).
    public init(
        executable: String,
        host: String = "127.0.0.1",
        gatewayPort: Int = 8000,
        basePort: Int = 7001,
        dataDirectory: String,
        environment: [String: String],
        certificates: ServiceCertificates? = nil
    ) {
        self.certificates = certificates
        self.executable = executable
        self.host = host
        self.gatewayPort = gatewayPort
        self.servicePorts = Dictionary(uniqueKeysWithValues: Self.services.map { ($0.name, basePort + $0.port - 7001) })
        self.dataDirectory = dataDirectory
        self.environment = environment
    }

    /// What dev mode fills in when the environment does not: the signing
    /// key and the first admin. Empty when everything is configured.
    public var developmentDefaults: [String: String] {
        var defaults: [String: String] = [:]
        if isEmpty("SHOP_SIGNING_KEY") { defaults["SHOP_SIGNING_KEY"] = DevelopmentSecrets.signingKey }
        if isEmpty("SHOP_ADMIN_EMAIL"), isEmpty("SHOP_ADMIN_PASSWORD") {
            defaults["SHOP_ADMIN_EMAIL"] = DevelopmentSecrets.adminEmail
            defaults["SHOP_ADMIN_PASSWORD"] = DevelopmentSecrets.adminPassword
        }
        if isEmpty("SHOP_GATEWAY_CORS_ORIGINS") { defaults["SHOP_GATEWAY_CORS_ORIGINS"] = "*" }
        return defaults
    }

    /// Every port the system binds, by the child that binds it.
    public var ports: [(name: String, port: Int)] {
        Self.services.map { ($0.name, servicePorts[$0.name]!) } + [("gateway", gatewayPort)]
    }

    /// The gateway's URL.
    public var gatewayURL: String {
        // The development certificate names `localhost`, not an address.
        if servesHTTPS, certificates != nil { return "https://localhost:\(gatewayPort)" }
        return "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(gatewayPort)"
    }

    /// The children, in start order.
    public var children: [ChildSpec] {
        var shared = environment
        for (key, value) in developmentDefaults { shared[key] = value }
        shared[DevelopmentSecrets.devModeVariable] = "true"
        shared["SHOP_SUPERVISOR_PID"] = String(supervisorPID)

        var children = Self.services.map { service -> ChildSpec in
            var arguments = ["serve", service.name, "--host", host, "--port", String(servicePorts[service.name]!), "--data", dataDirectory]
            if service.name == "order" {
                for upstream in Self.orderUpstreams {
                    arguments += ["--upstream", "\(upstream)=\(host):\(servicePorts[upstream]!)"]
                }
            }
            return ChildSpec(
                name: service.name,
                executable: executable,
                arguments: arguments,
                environment: shared.merging(tlsSettings(for: service.name)) { $1 },
                readiness: .healthRPC(host: host, port: servicePorts[service.name]!),
                probeTLS: probeTLS(for: service.name)
            )
        }
        var gateway = shared.merging(tlsSettings(for: "gateway")) { $1 }
        gateway["SHOP_GATEWAY_HOST"] = host
        gateway["SHOP_GATEWAY_PORT"] = String(gatewayPort)
        if servesHTTPS, let certificates {
            gateway["SHOP_GATEWAY_TLS_CERT"] = certificates.certificatePath(for: "gateway")
            gateway["SHOP_GATEWAY_TLS_KEY"] = certificates.keyPath(for: "gateway")
        }
        for service in Self.services {
            gateway["SHOP_\(service.name.uppercased())_ADDR"] = "\(host):\(servicePorts[service.name]!)"
        }
        children.append(ChildSpec(name: "gateway", executable: executable, arguments: ["gateway"], environment: gateway, readiness: .readyLine))
        return children
    }

    /// `SHOP_TLS_CERT`, `SHOP_TLS_KEY` and `SHOP_TLS_CA` for `name`'s own
    /// certificate; empty without ``certificates``.
    public func tlsSettings(for name: String) -> [String: String] {
        guard let certificates else { return [:] }
        return [
            "SHOP_TLS_CERT": certificates.certificatePath(for: name),
            "SHOP_TLS_KEY": certificates.keyPath(for: name),
            "SHOP_TLS_CA": certificates.caCertificatePath,
        ]
    }

    private func probeTLS(for name: String) -> RPCTLSConfiguration? {
        certificates.map {
            .files(
                certificateChain: $0.certificatePath(for: name),
                privateKey: $0.keyPath(for: name),
                trustRoots: $0.caCertificatePath,
                serverIdentity: $0.identity(of: name)
            )
        }
    }

    private func isEmpty(_ key: String) -> Bool {
        environment[key]?.isEmpty ?? true
    }
}
