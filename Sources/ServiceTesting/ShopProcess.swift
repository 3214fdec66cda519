import Foundation
import ServiceSupport
import Synchronization
import Supervisor

/// A `shop serve <service>` child process, for tests about processes:
/// crashes (`kill -9`), restarts, signals.
///
/// Spawned with ``ChildProcess`` (`posix_spawn`), not Foundation's
/// `Process`, whose `run()` was seen to crash when test suites start
/// processes from many threads at once.
public final class ShopProcess: Sendable {
    private let child: ChildProcess
    /// The port it listens on, read from its `ready` line.
    public let port: Int

    private init(child: ChildProcess, port: Int) {
        self.child = child
        self.port = port
    }

    /// The `shop` executable built beside the test bundle.
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("shop")
    }

    /// Starts `shop serve <service>` and waits for it to say it is ready.
    ///
    /// It gets the test PKI's certificate for `service` (``TestPKI``), as a
    /// deployment gives each process its own; `settings` may override or
    /// blank them.
    public static func start(
        service: String,
        dataDirectory: String,
        port: Int = 0,
        upstreams: [String: ServiceEndpoint] = [:],
        settings: [String: String] = [:]
    ) async throws -> ShopProcess {
        var arguments = ["serve", service, "--port", String(port), "--data", dataDirectory]
        for (name, endpoint) in upstreams.sorted(by: { $0.key < $1.key }) {
            arguments += ["--upstream", "\(name)=\(endpoint.host):\(endpoint.port)"]
        }
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in TestPKI.shared.settings(for: service) { environment[key] = value }
        for (key, value) in settings { environment[key] = value }
        let output = ProcessOutput()
        let child = try ChildProcess.spawn(executable: executable.path, arguments: arguments, environment: environment) { line in
            output.append(line)
        }
        // The ready line is `ready <service> <host>:<port>`. A process that
        // says nothing in 30 s is stopped.
        guard let line = await output.waitFor(timeout: .seconds(30), while: { !child.hasExited }, { $0.hasPrefix("ready ") }),
              let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            await child.stop(grace: .seconds(2))
            throw ConfigurationError("shop serve \(service) did not become ready (said: \(output.lines.suffix(5).joined(separator: " / ")))")
        }
        return ShopProcess(child: child, port: port)
    }

    /// Kills the process with SIGKILL: no chance to flush or drain.
    ///
    /// Waits without blocking a thread: on a 2-core machine the concurrency
    /// pool has two threads, and a test blocking one stalls every suite.
    public func kill9() async {
        child.send(SIGKILL)
        _ = await child.termination()
    }

    /// Sends SIGTERM and waits for the process to exit (SIGKILL after 20 s);
    /// returns its exit code (or 128 + the signal that ended it).
    @discardableResult
    public func terminate() async -> Int32 {
        switch await child.stop(grace: .seconds(20)) {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }

    deinit {
        if !child.hasExited { child.send(SIGKILL) }
    }
}

/// Every line a child process wrote, as it arrives.
public final class ProcessOutput: Sendable {
    private let collected = Mutex<[String]>([])

    public init() {}

    public var lines: [String] { collected.withLock { $0 } }

    public func append(_ line: String) {
        collected.withLock { $0.append(line) }
    }

    /// The first line from `index` on for which `matches` holds, waiting up
    /// to `timeout` and while `alive` holds; `nil` if none came.
    public func waitFor(
        timeout: Duration,
        after index: Int = 0,
        while alive: () -> Bool = { true },
        _ matches: (String) -> Bool
    ) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = lines
            if index < current.count, let line = current[index...].first(where: matches) { return line }
            if ContinuousClock.now >= deadline || !alive() { return lines.dropFirst(index).first(where: matches) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
