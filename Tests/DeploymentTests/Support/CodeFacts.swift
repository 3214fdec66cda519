import Foundation
import Gateway
import ShopAPI
import ShopAuth
import Supervisor

/// What the code says a deployment must match, read from the code itself
/// wherever possible, so that a deployment file that drifts from the code
/// fails a test instead of failing in production.
enum CodeFacts {
    /// A service `shop serve` knows, with the port it binds by default.
    struct Service: Hashable, CustomStringConvertible {
        let name: String
        let port: Int

        /// `user:7001`: its DNS name and port.
        var address: String { "\(name):\(port)" }
        /// `dns://user:7001`: how callers reach every replica of it, each
        /// address of the name an endpoint (FrameRPC's `RPCTarget`).
        var replicatedAddress: String { "dns://\(address)" }
        /// `UserService`: its library's folder under `Sources`.
        var libraryFolder: String { "Sources/\(name.prefix(1).uppercased())\(name.dropFirst())Service" }
        var description: String { address }
    }

    /// The services `shop serve` knows and `shop up` starts, with the port
    /// each binds by default: ``SystemPlan/services``, the one list of them
    /// (`shop serve`'s catalog takes its ports from it).
    static func services() throws -> [Service] {
        SystemPlan.services.map { Service(name: $0.name, port: $0.port) }
    }

    /// The gateway's defaults, from the real `GatewayConfiguration`.
    static let gatewayDefaults = GatewayConfiguration(signingKey: "", upstreams: [:])

    /// The short names of the services the gateway's route table calls: it
    /// refuses to start without an address for each.
    static var gatewayUpstreams: Set<String> {
        Set(ShopRoutes.routes.map { GatewayConfiguration.shortName(ofService: $0.service) })
    }

    /// The services `service` calls, from its library's
    /// `environment.client(for: "name")` calls: each needs an address.
    static func upstreams(of service: Service) throws -> Set<String> {
        let texts = try Repository.swiftSources(under: service.libraryFolder)
        return Set(texts.flatMap { $0.captures(of: /client\(for:\s*"([a-z]+)"\)/) })
    }

    /// Every `SHOP_*` name written out as a string literal in `texts`.
    static func variableLiterals(in texts: [String]) -> Set<String> {
        Set(texts.flatMap { $0.captures(of: /"(SHOP_[A-Z0-9_]+)"/) })
    }

    /// `SHOP_USER_ADDR` and the rest: the names both `shop serve` (from
    /// `ServiceCatalog.names`) and the gateway (``GatewayConfiguration/EnvironmentKey/address(of:)``) build.
    static func addressVariables() throws -> Set<String> {
        Set(try services().map { GatewayConfiguration.EnvironmentKey.address(of: $0.name) })
    }

    /// The `SHOP_*` variables anything in `Sources` reads.
    static func variablesReadAnywhere() throws -> Set<String> {
        variableLiterals(in: try Repository.swiftSources(under: "Sources")).union(try addressVariables())
    }

    /// What `shop serve <service>` reads: the command's own variables, those
    /// of the support library every service shares, of token handling, and
    /// of the service's own library. (A variable read only by another service
    /// is a mistake in this service's environment.)
    static func variablesRead(by service: Service) throws -> Set<String> {
        let texts = try ["Sources/shop/ServeCommand.swift"].map(Repository.text)
            + Repository.swiftSources(under: "Sources/ServiceSupport")
            + Repository.swiftSources(under: "Sources/ShopAuth")
            + Repository.swiftSources(under: service.libraryFolder)
        return variableLiterals(in: texts).union(try addressVariables())
    }

    /// What the gateway reads: the Gateway and ShopAuth libraries' variables
    /// (`GatewayConfiguration.EnvironmentKey` and the dev-mode switch), the
    /// TLS settings (`TLSSettings`) and the services' addresses.
    static func variablesReadByGateway() throws -> Set<String> {
        let texts = try Repository.swiftSources(under: "Sources/Gateway") + Repository.swiftSources(under: "Sources/ShopAuth")
            + [Repository.text("Sources/ServiceSupport/TLSSettings.swift")]
        return variableLiterals(in: texts).union(try addressVariables())
    }

    /// Variables that hold a secret: never a literal in a deployment file.
    static let secretVariables: Set<String> = [
        GatewayConfiguration.EnvironmentKey.signingKey,
        "SHOP_ADMIN_PASSWORD",
        // postgres://USER:PASSWORD@...: it carries the password.
        databaseURLVariable,
    ]

    /// Where every service finds its PostgreSQL database.
    static let databaseURLVariable = "SHOP_DATABASE_URL"

    /// Variables a deployment must never set: dev mode accepts the public
    /// development key, the test-only switch allows weak password hashes.
    static func forbiddenVariables() throws -> Set<String> {
        let all = try variablesReadAnywhere()
        return Set(all.filter { $0.hasPrefix("SHOP_TEST_ONLY_") }).union([DevelopmentSecrets.devModeVariable])
    }

    /// The variables that give a process its FrameRPC certificate, key and CA.
    static let tlsVariables = ["SHOP_TLS_CERT", "SHOP_TLS_KEY", "SHOP_TLS_CA"]

    /// Which processes call `service` over FrameRPC: the gateway calls all
    /// five, and each service whose library asks for a client to it.
    static func callers(of service: Service) throws -> Set<String> {
        var callers: Set<String> = ["gateway"]
        for other in try services() where try upstreams(of: other).contains(service.name) {
            callers.insert(other.name)
        }
        return callers
    }

    /// The shortest signing key the user service and the gateway accept.
    static let minimumSigningKeyBytes = TokenAuthority.minimumKeyByteCount
}
