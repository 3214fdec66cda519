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

    /// One process of a service as the plan runs it.
    public struct Instance: Sendable, Equatable {
        /// The service's short name (`user`).
        public var service: String
        /// 1 for the first replica.
        public var number: Int
        /// The child's name: the service's alone with one replica (`user`),
        /// else with its number (`user-1`, `user-2`).
        public var name: String
        public var port: Int
    }

    /// The most replicas per service `shop up` runs: a machine that runs
    /// more than this many of each wants a real orchestrator.
    public static let maximumReplicas = 16

    /// The `shop` executable the children run.
    public var executable: String
    /// The loopback address every child binds.
    public var host: String
    public var gatewayPort: Int
    /// The first service port; see ``instances``.
    public var basePort: Int
    /// How many processes of each service run; more than one needs
    /// ``databaseURL`` (``replicaProblem(replicas:databaseURL:)``).
    public var replicas: Int
    /// The PostgreSQL database every service instance uses
    /// (`SHOP_DATABASE_URL`), or `nil` for SQLite files under
    /// ``dataDirectory``.
    public var databaseURL: String?
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
    /// Kubernetes probe inside its pod does). `nil`: plaintext. Every
    /// replica of a service has the service's certificate: the identity is
    /// the service, not the process.
    public var certificates: ServiceCertificates?
    /// Whether the gateway serves HTTPS (HTTP/2 and HTTP/1.1) with its own
    /// development certificate (DNS name `localhost`), which clients verify
    /// against the development CA. Needs ``certificates``.
    public var servesHTTPS = false

    /// - Parameters:
    ///   - basePort: the first service port (the user service's first
    ///     replica); see ``instances`` for the rest.
    ///   - replicas: processes per service.
    ///   - databaseURL: the shared PostgreSQL database, `nil` for SQLite.
    public init(
        executable: String,
        host: String = "127.0.0.1",
        gatewayPort: Int = 8000,
        basePort: Int = 7001,
        replicas: Int = 1,
        databaseURL: String? = nil,
        dataDirectory: String,
        environment: [String: String],
        certificates: ServiceCertificates? = nil
    ) {
        self.certificates = certificates
        self.executable = executable
        self.host = host
        self.gatewayPort = gatewayPort
        self.basePort = basePort
        self.replicas = max(replicas, 1)
        self.databaseURL = databaseURL
        self.dataDirectory = dataDirectory
        self.environment = environment
    }

    /// Why `replicas` processes per service cannot run on `databaseURL`, or
    /// `nil` when they can: one sentence for the operator.
    ///
    /// SQLite is one file per service that one process writes, and the
    /// coordination replicas need (stock moves, outbox claims, sweeps,
    /// watch notifications) is decided by a shared PostgreSQL database.
    public static func replicaProblem(replicas: Int, databaseURL: String?) -> String? {
        guard (1...maximumReplicas).contains(replicas) else {
            return "--replicas must be between 1 and \(maximumReplicas)"
        }
        if let databaseURL {
            guard databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") else {
                return "--database-url must be a PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE, not '\(redacted(databaseURL).prefix(64))'"
            }
            return nil
        }
        guard replicas == 1 else {
            return "--replicas \(replicas) needs --database-url (or SHOP_DATABASE_URL): without it each service keeps its data in one SQLite file that only one process may write, so replicas must share a PostgreSQL database"
        }
        return nil
    }

    /// `url` with its password replaced by `***`, for printing: the URL of
    /// a database is a secret as long as it carries the password.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let authority = url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<credentials.index(after: colon)]) + "***" + String(url[at...])
    }

    /// Every service process, in start order: all replicas of a service
    /// before the next service.
    ///
    /// Ports: the service whose default port is `7001 + k` (user 0,
    /// product 1, inventory 2, order 3, notification 4) gets the block
    /// `basePort + k * replicas ..< basePort + (k + 1) * replicas`, one port
    /// per replica, in replica order. With one replica that is the default
    /// layout (7001 ... 7005); with two, user 7001-7002, product 7003-7004,
    /// inventory 7005-7006, order 7007-7008, notification 7009-7010. The
    /// blocks never overlap, so no two processes share a port, and the
    /// whole system takes `5 * replicas` consecutive ports from `basePort`.
    public var instances: [Instance] {
        Self.services.flatMap { instances(of: $0.name) }
    }

    /// The replicas of `service`, first to last.
    public func instances(of service: String) -> [Instance] {
        guard let entry = Self.services.first(where: { $0.name == service }) else { return [] }
        let offset = entry.port - 7001
        return (1...replicas).map { number in
            Instance(
                service: service,
                number: number,
                name: replicas == 1 ? service : "\(service)-\(number)",
                port: basePort + offset * replicas + number - 1
            )
        }
    }

    /// The FrameRPC address of every replica of `service`: one `HOST:PORT`,
    /// or a comma-separated list (``RPCTarget``), over which callers balance.
    public func address(of service: String) -> String {
        instances(of: service).map { "\(host):\($0.port)" }.joined(separator: ",")
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
        instances.map { ($0.name, $0.port) } + [("gateway", gatewayPort)]
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

        if let databaseURL { shared["SHOP_DATABASE_URL"] = databaseURL }

        var children = instances.map { instance -> ChildSpec in
            var arguments = ["serve", instance.service, "--host", host, "--port", String(instance.port), "--data", dataDirectory]
            if instance.service == "order" {
                for upstream in Self.orderUpstreams {
                    arguments += ["--upstream", "\(upstream)=\(address(of: upstream))"]
                }
            }
            return ChildSpec(
                name: instance.name,
                executable: executable,
                arguments: arguments,
                environment: shared.merging(tlsSettings(for: instance.service)) { $1 },
                readiness: .healthRPC(host: host, port: instance.port),
                probeTLS: probeTLS(for: instance.service)
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
            gateway["SHOP_\(service.name.uppercased())_ADDR"] = address(of: service.name)
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
