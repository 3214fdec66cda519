import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ServiceSupport
import ShopAuth
import ShopCertificates
import Supervisor

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the whole system on this machine: five services and the gateway, as child processes.",
        discussion: """
        Each service runs as `shop serve <name>` on its own loopback port \
        with its SQLite files under --data, then the gateway on --port. \
        Prints `ready` once every service answers its health RPC and the \
        gateway listens; restarts a child that crashes; Ctrl-C or SIGTERM \
        stops them all, gateway first. Every FrameRPC connection is mutual \
        TLS: a throwaway CA and one certificate per process are made under \
        DATA/certs (reused while valid). Dev mode: without SHOP_SIGNING_KEY \
        and SHOP_ADMIN_EMAIL/SHOP_ADMIN_PASSWORD, public development values \
        are used (and printed); never use them in production. With \
        --database-url every service uses that PostgreSQL database instead \
        of SQLite, and --replicas N runs N processes of each service (on \
        consecutive ports, see --replicas) that the order service and the \
        gateway balance across; a replica that dies is restarted while the \
        others serve.
        """
    )

    @Option(help: "Folder for the services' SQLite files (SHOP_DATA_DIR; default ./data).")
    var data: String?

    @Option(help: "Loopback address every process binds.")
    var host: String = "127.0.0.1"

    @Option(help: "The gateway's port.")
    var port: Int = 8000

    @Option(help: "The user service's port; the others follow (product +1, inventory +2, order +3, notification +4; with --replicas, blocks of REPLICAS ports each).")
    var basePort: Int = 7001

    @Option(help: "A PostgreSQL database every service uses instead of its SQLite file, postgres://USER:PASSWORD@HOST:PORT/DATABASE (SHOP_DATABASE_URL); each service keeps its tables in a schema of its own.")
    var databaseURL: String?

    @Option(help: "Processes per service (1-16); more than 1 needs --database-url. Replica R of the service at offset K (user 0, product 1, inventory 2, order 3, notification 4) listens on BASE_PORT + K*REPLICAS + R-1.")
    var replicas: Int = 1

    @Flag(help: "Serve the API over HTTPS (HTTP/2 and HTTP/1.1) at https://localhost:PORT with the gateway's development certificate; clients trust DATA/certs/ca.pem.")
    var https = false

    mutating func validate() throws {
        guard (1...65_535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        if let problem = SystemPlan.replicaProblem(replicas: replicas, databaseURL: resolvedDatabaseURL) {
            throw ValidationError(problem)
        }
        let lastPort = 65_536 - SystemPlan.services.count * replicas
        guard (1...lastPort).contains(basePort) else {
            throw ValidationError("--base-port must be between 1 and \(lastPort): the services take \(SystemPlan.services.count * replicas) consecutive ports from it")
        }
        let servicePorts = basePort..<(basePort + SystemPlan.services.count * replicas)
        guard !servicePorts.contains(port) else {
            throw ValidationError("--port \(port) is one of the services' ports \(servicePorts.lowerBound)-\(servicePorts.upperBound - 1): choose another --port or --base-port")
        }
        guard TLSSettings.isLoopback(host) else {
            throw ValidationError("--host must be a loopback address (127.0.0.1, ::1, localhost): dev mode's secrets and certificates are public")
        }
    }

    /// `--database-url`, else a non-empty `SHOP_DATABASE_URL`.
    var resolvedDatabaseURL: String? {
        databaseURL ?? ProcessInfo.processInfo.environment["SHOP_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let dataDirectory = data ?? environment["SHOP_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
        let dataPath = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        let certificates = ServiceCertificates(directory: URL(fileURLWithPath: dataPath).appendingPathComponent("certs").path)
        var configured = SystemPlan(
            executable: Self.executablePath,
            host: host,
            gatewayPort: port,
            basePort: basePort,
            replicas: replicas,
            databaseURL: resolvedDatabaseURL,
            dataDirectory: dataPath,
            environment: environment,
            certificates: certificates
        )
        configured.servesHTTPS = https
        let plan = configured
        let console = Console(names: plan.children.map(\.name))

        let taken = plan.ports.compactMap { entry in PortProbe.problem(host: host, port: entry.port).map { "\(entry.name): \($0)" } }
        guard taken.isEmpty else {
            Self.fail("cannot start: " + taken.joined(separator: "; ") + ". Is another `shop up` running? Stop it, or choose other ports with --port and --base-port.")
        }
        do {
            try FileManager.default.createDirectory(atPath: plan.dataDirectory, withIntermediateDirectories: true)
        } catch {
            Self.fail("cannot create the data folder \(plan.dataDirectory): \(error.localizedDescription)")
        }

        let certificateNote: String
        if let problem = certificates.reuseProblem() {
            do {
                try certificates.create(validity: 30 * 86_400)
            } catch {
                Self.fail("cannot create the development certificates in \(certificates.directory): \(error)")
            }
            certificateNote = "made a development CA and certificates (\(problem))"
        } else {
            certificateNote = "reusing the development CA and certificates"
        }
        console.supervisor("mutual TLS: \(certificateNote) in \(certificates.directory): CA \(certificates.caCertificatePath), one <name>.pem and <name>.key per process")
        if https {
            console.supervisor("HTTPS: the gateway serves \(plan.gatewayURL) with \(certificates.certificatePath(for: "gateway")); trust \(certificates.caCertificatePath) (curl --cacert \(certificates.caCertificatePath) \(plan.gatewayURL)/)")
        }

        let defaults = plan.developmentDefaults
        if !defaults.isEmpty {
            var lines = ["WARNING: dev mode. These are public development values; never use them in production:"]
            if defaults["SHOP_SIGNING_KEY"] != nil { lines.append("  signing key: the built-in development key (set SHOP_SIGNING_KEY to use your own)") }
            if let email = defaults["SHOP_ADMIN_EMAIL"], let password = defaults["SHOP_ADMIN_PASSWORD"] {
                lines.append("  admin account: \(email) / \(password) (set SHOP_ADMIN_EMAIL and SHOP_ADMIN_PASSWORD to choose)")
            }
            if defaults["SHOP_GATEWAY_CORS_ORIGINS"] != nil { lines.append("  CORS: any origin") }
            lines.forEach(console.supervisor)
        }

        let services = plan.ports.filter { $0.name != "gateway" }.map { "\($0.name) \(host):\($0.port)" }.joined(separator: ", ")
        let url = plan.gatewayURL
        // The password stays out of the output: logs are no place for it.
        let storage = plan.databaseURL.map { "database \(SystemPlan.redacted($0)) (\(plan.replicas) per service)" } ?? "data in \(plan.dataDirectory)"
        if let databaseURL = plan.databaseURL {
            console.supervisor("PostgreSQL: every service uses \(SystemPlan.redacted(databaseURL)), \(plan.replicas) process\(plan.replicas == 1 ? "" : "es") per service; the order service and the gateway balance across them")
        }
        let supervisor = Supervisor(configuration: .init(children: plan.children), console: console) {
            console.supervisor("ready: \(url) (API), \(url)/health, \(url)/openapi.json; services: \(services); \(storage). Ctrl-C stops.")
        }
        var logger = Logger(label: "shop.up")
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: supervisor)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await group.run()
        } catch let error as SupervisorError {
            Self.fail(error.description)
        } catch let error as ServiceGroupError {
            Self.fail("\(error)")
        }
        console.supervisor("stopped")
    }

    /// This executable, which every child runs with another subcommand.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Says why on standard error and exits 1: a sentence, not a stack trace.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
