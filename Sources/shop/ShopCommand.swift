import ArgumentParser
import Foundation
import FrameRPC
import InventoryService
import Logging
import NotificationService
import OrderService
import ProductService
import ServiceSupport
import UserService

/// `shop`: the one executable of the system.
@main
struct ShopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shop",
        abstract: "The shop: a gateway and five services speaking FrameRPC.",
        subcommands: [ServeCommand.self, HealthCommand.self]
    )
}

/// The services `shop serve` knows, with their default ports.
enum ServiceCatalog {
    static let services: [(name: String, port: Int, factory: ServiceFactory)] = [
        ("user", 7001, UserServiceApp.factory),
        ("product", 7002, ProductServiceApp.factory),
        ("inventory", 7003, InventoryServiceApp.factory),
        ("order", 7004, OrderServiceApp.factory),
        ("notification", 7005, NotificationServiceApp.factory),
    ]

    static var names: [String] { services.map(\.name) }

    static func entry(_ name: String) -> (name: String, port: Int, factory: ServiceFactory)? {
        services.first { $0.name == name }
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one service in this process (for containers and tests).",
        discussion: """
        Every flag has a SHOP_* environment variable; the flag wins. Upstream \
        addresses: --upstream NAME=HOST:PORT or SHOP_<NAME>_ADDR.
        """
    )

    @Argument(help: "The service: user, product, inventory, order or notification.")
    var service: String

    @Option(help: "Address to bind (SHOP_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to bind; 0 picks a free one (SHOP_PORT; default: the service's own).")
    var port: Int?

    @Option(help: "Folder for the service's SQLite files (SHOP_DATA_DIR; default ./data).")
    var data: String?

    @Option(help: "An upstream service's address, NAME=HOST:PORT; repeatable.")
    var upstream: [String] = []

    mutating func validate() throws {
        guard ServiceCatalog.entry(service) != nil else {
            throw ValidationError("unknown service '\(service)'; expected one of: \(ServiceCatalog.names.joined(separator: ", "))")
        }
        if let port, !(0...65_535).contains(port) {
            throw ValidationError("--port must be between 0 and 65535")
        }
        for value in upstream {
            guard let equals = value.firstIndex(of: "="), ServiceEndpoint(String(value[value.index(after: equals)...])) != nil else {
                throw ValidationError("--upstream '\(value)' is not NAME=HOST:PORT")
            }
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let entry = ServiceCatalog.entry(service)!
        var upstreams: [String: ServiceEndpoint] = [:]
        for name in ServiceCatalog.names {
            if let address = environment["SHOP_\(name.uppercased())_ADDR"] {
                guard let endpoint = ServiceEndpoint(address) else {
                    throw ValidationError("SHOP_\(name.uppercased())_ADDR '\(address)' is not HOST:PORT")
                }
                upstreams[name] = endpoint
            }
        }
        for value in upstream {
            let equals = value.firstIndex(of: "=")!
            upstreams[String(value[..<equals])] = ServiceEndpoint(String(value[value.index(after: equals)...]))!
        }
        let envPort = environment["SHOP_PORT"].flatMap(Int.init)
        let endpoint = ServiceEndpoint(
            host: host ?? environment["SHOP_HOST"] ?? "127.0.0.1",
            port: port ?? envPort ?? entry.port
        )
        var logger = Logger(label: "shop.\(service)")
        logger.logLevel = environment["SHOP_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let settings = environment.filter { $0.key.hasPrefix("SHOP_") }
        let serviceEnvironment = ServiceEnvironment(
            dataDirectory: data ?? environment["SHOP_DATA_DIR"] ?? "./data",
            upstreams: upstreams,
            settings: settings,
            logger: logger
        )
        let name = service
        do {
            try await ServiceRunner.serve(name: name, factory: entry.factory, at: endpoint, environment: serviceEnvironment) { port in
                // Unbuffered, so a parent process reading our output sees it now.
                FileHandle.standardOutput.write(Data("ready \(name) \(endpoint.host):\(port)\n".utf8))
            }
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a server's health RPC; exit 0 if SERVING, 1 otherwise (for probes)."
    )

    @Argument(help: "The server's HOST:PORT.")
    var address: String

    @Option(help: "The service to ask about; empty means the whole server.")
    var service: String = ""

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 2

    func run() async throws {
        guard let endpoint = ServiceEndpoint(address) else {
            throw ValidationError("'\(address)' is not HOST:PORT")
        }
        let client = RPCClient(host: endpoint.host, port: endpoint.port)
        defer { client.shutdown() }
        do {
            let response = try await HealthClient(client).check(
                .with { $0.service = service },
                options: CallOptions(timeout: .milliseconds(Int64(timeout * 1000)))
            )
            print(response.status == .serving ? "SERVING" : "NOT_SERVING")
            if response.status != .serving { throw ExitCode(1) }
        } catch let error as RPCError {
            print("unhealthy: \(error)")
            throw ExitCode(1)
        }
    }
}
