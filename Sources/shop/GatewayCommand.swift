import ArgumentParser
import Foundation
import FrameRPC
import Gateway
import Hummingbird
import Logging
import ServiceLifecycle
import ServiceSupport
import ShopObservability

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the HTTP gateway in this process (for containers).",
        discussion: """
        Settings come from SHOP_* environment variables (README, 'Settings'): \
        SHOP_SIGNING_KEY and SHOP_<NAME>_ADDR for each of the five services \
        are required. The flags below override their variables. Prints \
        `ready gateway HOST:PORT` once it listens; SIGTERM or SIGINT drains it.
        """
    )

    @Option(help: "Address to bind (SHOP_GATEWAY_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to bind; 0 picks a free one (SHOP_GATEWAY_PORT; default 8000).")
    var port: Int?

    @Option(help: "A service's address, NAME=HOST:PORT, a comma-separated list, or NAME=dns://HOST:PORT (SHOP_<NAME>_ADDR); repeatable.")
    var upstream: [String] = []

    @OptionGroup var tls: TLSOptions

    mutating func validate() throws {
        if let port, !(0...65_535).contains(port) {
            throw ValidationError("--port must be between 0 and 65535")
        }
        for value in upstream {
            _ = try UpstreamFlag(parsing: value)
        }
    }

    func run() async throws {
        var environment = tls.applied(to: ProcessInfo.processInfo.environment)
        if let host { environment["SHOP_GATEWAY_HOST"] = host }
        if let port { environment["SHOP_GATEWAY_PORT"] = String(port) }
        for flag in try upstream.map(UpstreamFlag.init(parsing:)) {
            environment["SHOP_\(flag.name.uppercased())_ADDR"] = flag.target.description
        }
        let level = environment["SHOP_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // JSON lines on standard error, metrics into the shared registry:
        // before anything that logs or records is built.
        // Lines go through a buffer drained by a writer task of the service
        // group (first in it, so it stops last): no write(2) per request.
        let logWriter = BufferedLogSink(target: FileDescriptorLogSink.standardError)
        Observability.bootstrap(processName: "gateway", logLevel: level, logSink: logWriter)
        var logger = Logger(label: "shop.gateway")
        logger.logLevel = level
        let configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration.fromEnvironment(environment, logger: logger)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let host = configuration.host
        let application: any Service
        do {
            application = try buildGateway(configuration: configuration) { port in
                // Unbuffered, so a parent process reading our output sees it now.
                FileHandle.standardOutput.write(Data("ready gateway \(host):\(port)\n".utf8))
            }
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: logWriter), .init(service: application)]
        if let watch = SupervisorWatch(settings: environment) {
            services.append(.init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup))
        }
        try await ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )).run()
    }
}

/// `--upstream NAME=ADDRESS`, parsed: ADDRESS is an ``RPCTarget``
/// (`HOST:PORT`, a comma-separated list, or `dns://NAME:PORT`).
struct UpstreamFlag {
    let name: String
    let target: RPCTarget

    /// - Throws: a `ValidationError` saying what is wrong with `value`.
    init(parsing value: String) throws {
        guard let equals = value.firstIndex(of: "="), equals != value.startIndex else {
            throw ValidationError("--upstream '\(value.prefix(64))' is not NAME=HOST:PORT")
        }
        name = String(value[..<equals])
        do {
            target = try RPCTarget(parsing: String(value[value.index(after: equals)...]))
        } catch {
            throw ValidationError("--upstream \(name): \(error)")
        }
    }
}
