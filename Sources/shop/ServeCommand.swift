import ArgumentParser
import Foundation
import FrameRPC
import Logging
import ServiceSupport
import ShopObservability
import ShopStorage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one service in this process (for containers and tests).",
        discussion: """
        Every flag has a SHOP_* environment variable; the flag wins. Upstream \
        addresses: --upstream NAME=ADDRESS or SHOP_<NAME>_ADDR, where ADDRESS \
        is HOST:PORT, a comma-separated list of them, or dns://NAME:PORT. \
        FrameRPC is mutual TLS with SHOP_TLS_CERT, SHOP_TLS_KEY and \
        SHOP_TLS_CA (`shop certs` makes them); without them the service \
        refuses to start unless SHOP_DEV_MODE is set, and dev mode binds \
        loopback only. Every service needs SHOP_SIGNING_KEY (the same as \
        the gateway's): it verifies the access tokens the gateway forwards.
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

    @Option(help: "PostgreSQL for the service's data, postgres://USER:PASSWORD@HOST:5432/DATABASE (SHOP_DATABASE_URL; default: SQLite in --data).")
    var databaseURL: String?

    @Option(help: "An upstream service's address, NAME=HOST:PORT (or a comma-separated list, or dns://NAME:PORT); repeatable.")
    var upstream: [String] = []

    @OptionGroup var tls: TLSOptions

    mutating func validate() throws {
        guard ServiceCatalog.entry(service) != nil else {
            throw ValidationError("unknown service '\(service)'; expected one of: \(ServiceCatalog.names.joined(separator: ", "))")
        }
        if let port, !(0...65_535).contains(port) {
            throw ValidationError("--port must be between 0 and 65535")
        }
        for value in upstream {
            _ = try UpstreamFlag(parsing: value)
        }
    }

    func run() async throws {
        let environment = tls.applied(to: ProcessInfo.processInfo.environment)
        guard let entry = ServiceCatalog.entry(service) else { throw ValidationError("unknown service '\(service)'") }
        var upstreams: [String: RPCTarget] = [:]
        for name in ServiceCatalog.names {
            if let address = environment["SHOP_\(name.uppercased())_ADDR"] {
                do {
                    upstreams[name] = try RPCTarget(parsing: address)
                } catch {
                    throw ValidationError("SHOP_\(name.uppercased())_ADDR: \(error)")
                }
            }
        }
        for flag in try upstream.map(UpstreamFlag.init(parsing:)) {
            upstreams[flag.name] = flag.target
        }
        let envPort = environment["SHOP_PORT"].flatMap(Int.init)
        let endpoint = ServiceEndpoint(
            host: host ?? environment["SHOP_HOST"] ?? "127.0.0.1",
            port: port ?? envPort ?? entry.port
        )
        if let problem = TLSSettings.devModeHostProblem(host: endpoint.host, settings: environment) {
            throw ValidationError(problem)
        }
        let tlsConfiguration: RPCTLSConfiguration?
        do {
            tlsConfiguration = try TLSSettings.configuration(from: environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let level = environment["SHOP_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // JSON lines on standard error, metrics into the shared registry:
        // before anything that logs or records is built.
        // Lines go through a buffer drained by a writer task of the service
        // group (first in it, so it stops last): no write(2) per request.
        let logWriter = BufferedLogSink(target: FileDescriptorLogSink.standardError)
        Observability.bootstrap(processName: service, logLevel: level, logSink: logWriter)
        var logger = Logger(label: "shop.\(service)")
        logger.logLevel = level
        var settings = environment.filter { $0.key.hasPrefix("SHOP_") }
        if let databaseURL { settings[ServiceDatabase.urlSetting] = databaseURL }
        let serviceEnvironment = ServiceEnvironment(
            dataDirectory: data ?? environment["SHOP_DATA_DIR"] ?? "./data",
            upstreamTargets: upstreams,
            settings: settings,
            tls: tlsConfiguration,
            logger: logger
        )
        let name = service
        do {
            try await ServiceRunner.serve(name: name, factory: entry.factory, at: endpoint, environment: serviceEnvironment, firstServices: [logWriter]) { port in
                // Unbuffered, so a parent process reading our output sees it now.
                FileHandle.standardOutput.write(Data("ready \(name) \(endpoint.host):\(port)\n".utf8))
            }
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        } catch let error as StorageError where error.kind == .unavailable {
            // The database unreachable at start: one sentence, exit 1.
            FileHandle.standardError.write(Data("error: \(name): \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }
}
