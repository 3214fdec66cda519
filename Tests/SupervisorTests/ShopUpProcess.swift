import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import FrameRPC
import ServiceSupport
import ServiceTesting
import Supervisor

/// A real `shop up` child process on ports of its own, its output
/// collected line by line, for the tests about running the whole system.
final class ShopUpProcess: Sendable {
    let child: ChildProcess
    let output: ProcessOutput
    let gatewayPort: Int
    let basePort: Int
    let dataDirectory: String
    /// Processes per service (`--replicas`).
    let replicas: Int

    /// The settings every test's system gets: cheap password hashing (the
    /// system's behaviour, not its KDF, is under test here).
    static let testSettings = [
        "SHOP_PASSWORD_ROUNDS": "1",
        "SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS": "true",
        "SHOP_LOG_LEVEL": "info",
    ]

    private init(child: ChildProcess, output: ProcessOutput, gatewayPort: Int, basePort: Int, dataDirectory: String, replicas: Int) {
        self.dataDirectory = dataDirectory
        self.replicas = replicas
        self.child = child
        self.output = output
        self.gatewayPort = gatewayPort
        self.basePort = basePort
    }

    /// Starts `shop up` (not waiting for it to be ready).
    /// - Parameters:
    ///   - replicas: `--replicas`; more than one needs a `--database-url` in `extraArguments`.
    ///   - settings: more `SHOP_*` settings over ``testSettings``.
    static func launch(dataDirectory: String, gatewayPort: Int, basePort: Int, replicas: Int = 1, settings: [String: String] = [:], extraArguments: [String] = []) throws -> ShopUpProcess {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SHOP_") }
        for (key, value) in testSettings.merging(settings, uniquingKeysWith: { $1 }) { environment[key] = value }
        let output = ProcessOutput()
        let replicaArguments = replicas == 1 ? [] : ["--replicas", String(replicas)]
        let child = try ChildProcess.spawn(
            executable: ShopProcess.executable.path,
            arguments: ["up", "--data", dataDirectory, "--port", String(gatewayPort), "--base-port", String(basePort)] + replicaArguments + extraArguments,
            environment: environment,
            onLine: output.append
        )
        return ShopUpProcess(child: child, output: output, gatewayPort: gatewayPort, basePort: basePort, dataDirectory: dataDirectory, replicas: replicas)
    }

    /// Starts `shop up` on free ports and waits for its `ready` line.
    static func start(dataDirectory: String, replicas: Int = 1, settings: [String: String] = [:], extraArguments: [String] = []) async throws -> ShopUpProcess {
        let (gatewayPort, basePort) = try FreePorts.system(servicePorts: SystemPlan.services.count * replicas)
        let system = try launch(dataDirectory: dataDirectory, gatewayPort: gatewayPort, basePort: basePort, replicas: replicas, settings: settings, extraArguments: extraArguments)
        guard await system.output.waitFor(timeout: .seconds(180), while: { !system.child.hasExited }, { $0.contains("| ready: ") }) != nil else {
            await system.stop()
            throw ConfigurationError("shop up did not say ready; it said:\n\(system.output.lines.joined(separator: "\n"))")
        }
        return system
    }

    var pid: pid_t { child.pid }

    /// Where `shop up` keeps its development CA and certificates.
    var certificateDirectory: String { "\(dataDirectory)/certs" }

    /// A client for `service`, over mutual TLS with the certificate `shop up`
    /// made for `caller` (the gateway unless told).
    func client(for service: String, replica: Int = 1, as caller: String = "gateway") -> RPCClient {
        RPCClient(host: "127.0.0.1", port: port(of: service, replica: replica), configuration: RPCClient.Configuration(tls: .files(
            certificateChain: "\(certificateDirectory)/\(caller).pem",
            privateKey: "\(certificateDirectory)/\(caller).key",
            trustRoots: "\(certificateDirectory)/ca.pem",
            serverIdentity: "spiffe://shop.local/service/\(service)"
        )))
    }

    /// The port of `service`'s replica number `replica` (1 for the first),
    /// by the layout `shop up` documents.
    func port(of service: String, replica: Int = 1) -> Int {
        let offset = SystemPlan.services.first { $0.name == service }.map { $0.port - 7001 } ?? 0
        return basePort + offset * replicas + replica - 1
    }

    /// The pid `shop up` reported for the latest start of `child`.
    func pid(of child: String) -> pid_t? {
        output.lines.reversed().lazy.compactMap { line -> pid_t? in
            guard line.contains("| starting \(child) (pid ") || line.contains("| restarting \(child) (restart ") else { return nil }
            guard let range = line.range(of: "pid ") else { return nil }
            return pid_t(line[range.upperBound...].prefix { $0.isNumber })
        }.first
    }

    /// Sends SIGTERM and waits, without blocking a thread, for the exit
    /// code (128 + signal if a signal ended it); kills it after `timeout`.
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) async -> Int32 {
        switch await child.stop(grace: timeout) {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }

    /// `GET path` on the gateway: status and body.
    func get(_ path: String) async throws -> (status: Int, body: String) {
        guard let url = URL(string: "http://127.0.0.1:\(gatewayPort)\(path)") else { throw ConfigurationError("bad path \(path)") }
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// A request to the gateway: status and the body parsed as JSON (`nil`
    /// when it is not); a connection failure is status 0.
    func send(_ method: String, _ path: String, token: String? = nil, json: String? = nil, headers: [String: String] = [:]) async -> (status: Int, json: Any?) {
        guard let url = URL(string: "http://127.0.0.1:\(gatewayPort)\(path)") else { return (0, nil) }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        guard let (data, response) = try? await URLSession.shared.data(for: request) else { return (0, nil) }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONSerialization.jsonObject(with: data))
    }

    deinit {
        if !child.hasExited { child.send(SIGKILL) }
    }
}

/// Ports for a whole system, outside the kernel's ephemeral range (so no
/// server another test starts on port 0 can take them meanwhile): a gateway
/// port and five consecutive service ports, all free now.
enum FreePorts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var next = 20_000 + Int(getpid() % 500) * 10

    /// `servicePorts` consecutive free ports from `base`, and the gateway's
    /// right after them.
    static func system(servicePorts: Int = 5) throws -> (gateway: Int, base: Int) {
        try lock.withLock {
            for _ in 0..<200 {
                let base = next
                next += servicePorts + 1
                if next > 32_000 { next = 20_000 }
                let ports = Array(base...(base + servicePorts))
                if ports.allSatisfy({ PortProbe.problem(host: "127.0.0.1", port: $0) == nil }) {
                    return (ports[servicePorts], base)
                }
            }
            throw ConfigurationError("no \(servicePorts + 1) free ports found")
        }
    }
}
