import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ServiceSupport
import ServiceTesting
import Supervisor

/// A real `shop up` child process on ports of its own, its output
/// collected line by line, for the tests about running the whole system.
final class ShopUpProcess: @unchecked Sendable {
    let process: Process
    let output: LineLog
    let gatewayPort: Int
    let basePort: Int
    let dataDirectory: String

    /// The settings every test's system gets: cheap password hashing (the
    /// system's behaviour, not its KDF, is under test here).
    static let testSettings = [
        "SHOP_PASSWORD_ROUNDS": "1",
        "SHOP_TEST_ONLY_ALLOW_WEAK_PASSWORD_ROUNDS": "true",
        "SHOP_LOG_LEVEL": "info",
    ]

    private init(process: Process, output: LineLog, gatewayPort: Int, basePort: Int, dataDirectory: String) {
        self.process = process
        self.output = output
        self.gatewayPort = gatewayPort
        self.basePort = basePort
        self.dataDirectory = dataDirectory
    }

    /// Starts `shop up` (not waiting for it to be ready).
    static func launch(dataDirectory: String, gatewayPort: Int, basePort: Int) throws -> ShopUpProcess {
        let process = Process()
        process.executableURL = ShopProcess.executable
        process.arguments = ["up", "--data", dataDirectory, "--port", String(gatewayPort), "--base-port", String(basePort)]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SHOP_") }
        for (key, value) in testSettings { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let log = LineLog()
        try process.run()
        log.follow(pipe.fileHandleForReading)
        return ShopUpProcess(process: process, output: log, gatewayPort: gatewayPort, basePort: basePort, dataDirectory: dataDirectory)
    }

    /// Starts `shop up` on free ports and waits for its `ready` line.
    static func start(dataDirectory: String) async throws -> ShopUpProcess {
        let (gatewayPort, basePort) = try FreePorts.system()
        let system = try launch(dataDirectory: dataDirectory, gatewayPort: gatewayPort, basePort: basePort)
        guard await system.output.waitFor(timeout: .seconds(120), { $0.contains("| ready: ") }) != nil else {
            system.stop()
            throw ConfigurationError("shop up did not say ready; it said:\n\(system.output.lines.joined(separator: "\n"))")
        }
        return system
    }

    func port(of service: String) -> Int {
        let offset = SystemPlan.services.first { $0.name == service }.map { $0.port - 7001 } ?? 0
        return basePort + offset
    }

    /// The pid `shop up` reported for the latest start of `child`.
    func pid(of child: String) -> pid_t? {
        output.lines.reversed().lazy.compactMap { line -> pid_t? in
            guard line.contains("| starting \(child) (pid ") || line.contains("| restarting \(child) (restart ") else { return nil }
            guard let range = line.range(of: "pid ") else { return nil }
            return pid_t(line[range.upperBound...].prefix { $0.isNumber })
        }.first
    }

    /// Sends SIGTERM and waits for the exit status, killing it after `timeout`.
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// `GET path` on the gateway: status and body.
    func get(_ path: String) async throws -> (status: Int, body: String) {
        let url = try URLOf("http://127.0.0.1:\(gatewayPort)\(path)")
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

private func URLOf(_ text: String) throws -> URL {
    guard let url = URL(string: text) else { throw ConfigurationError("bad URL \(text)") }
    return url
}

/// Every line a process wrote, as it arrives.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    var lines: [String] { lock.withLock { collected } }

    /// Reads `handle` to its end on a thread of its own.
    func follow(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    lock.withLock { collected.append(line) }
                }
            }
        }
    }

    /// The first line, from the start, for which `matches` holds, waiting
    /// for it up to `timeout`; `nil` if none came.
    func waitFor(timeout: Duration, after index: Int = 0, _ matches: (String) -> Bool) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = lines
            if index < current.count, let line = current[index...].first(where: matches) { return line }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Ports for a whole system, outside the kernel's ephemeral range (so no
/// server another test starts on port 0 can take them meanwhile): a gateway
/// port and five consecutive service ports, all free now.
enum FreePorts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var next = 20_000 + Int(getpid() % 500) * 10

    static func system() throws -> (gateway: Int, base: Int) {
        try lock.withLock {
            for _ in 0..<200 {
                let base = next
                next += 6
                if next > 32_000 { next = 20_000 }
                let ports = Array(base..<(base + 6))
                if ports.allSatisfy({ PortProbe.problem(host: "127.0.0.1", port: $0) == nil }) {
                    return (ports[5], base)
                }
            }
            throw ConfigurationError("no six free ports found")
        }
    }
}
