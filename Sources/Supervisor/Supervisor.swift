import Foundation
import FrameRPC
import ServiceLifecycle

/// Runs the processes of the system as children, `shop up`'s engine.
///
/// - Starts the children one after another in the given order, each only
///   once the one before is ready (a ready line, then, for services, a
///   `SERVING` answer from its health RPC); if one cannot start, stops those
///   already running and throws.
/// - Prefixes every line a child writes with its name.
/// - Restarts a child that exits on its own, after a ``RestartBackoff``
///   delay, and says so.
/// - On graceful shutdown (SIGTERM or SIGINT through the service group)
///   stops the children in the reverse order, each with SIGTERM and, after
///   a grace period, SIGKILL; then returns normally.
public actor Supervisor: Service {
    public struct Configuration: Sendable {
        /// The children in start order; they stop in the reverse order.
        public var children: [ChildSpec]
        public var backoff: RestartBackoff
        /// How long a child may take to become ready.
        public var startTimeout: Duration
        /// How long a child may take to drain after SIGTERM before SIGKILL.
        public var stopGrace: Duration

        public init(
            children: [ChildSpec],
            backoff: RestartBackoff = RestartBackoff(),
            startTimeout: Duration = .seconds(60),
            stopGrace: Duration = .seconds(10)
        ) {
            self.children = children
            self.backoff = backoff
            self.startTimeout = startTimeout
            self.stopGrace = stopGrace
        }
    }

    private let configuration: Configuration
    private let console: Console
    private let onReady: @Sendable () -> Void
    private var running: [String: ChildProcess] = [:]
    private var stopping = false

    /// - Parameters:
    ///   - console: where prefixed child output and the supervisor's own
    ///     messages go.
    ///   - onReady: called once, when every child is ready.
    public init(configuration: Configuration, console: Console, onReady: @escaping @Sendable () -> Void = {}) {
        self.configuration = configuration
        self.console = console
        self.onReady = onReady
    }

    public func run() async throws {
        do {
            for spec in configuration.children {
                guard !stopping else { break }
                try await start(spec, restart: nil)
            }
        } catch {
            await stopAll()
            throw error
        }
        guard !stopping else {
            await stopAll()
            return
        }
        onReady()

        await withTaskGroup(of: Void.self) { group in
            for spec in configuration.children {
                group.addTask { await self.watch(spec) }
            }
            // Returns when the service group starts shutting down, or
            // throws when this task is cancelled: either way, stop.
            try? await gracefulShutdown()
            await self.stopAll()
            // Ends restart delays still sleeping.
            group.cancelAll()
            await group.waitForAll()
        }
    }

    /// Starts `spec` and waits until it is ready.
    private func start(_ spec: ChildSpec, restart: Int?) async throws {
        let latch = ReadyLatch()
        let console = self.console
        let child = try ChildProcess.spawn(
            executable: spec.executable,
            arguments: spec.arguments,
            environment: spec.environment
        ) { line in
            console.child(spec.name, line)
            if line.hasPrefix("ready ") { latch.open() }
        }
        running[spec.name] = child
        console.supervisor(restart.map { "restarting \(spec.name) (restart \($0), pid \(child.pid))" } ?? "starting \(spec.name) (pid \(child.pid))")

        let deadline = ContinuousClock.now + configuration.startTimeout
        let ready = await waitUntilReady(spec, child: child, latch: latch, deadline: deadline)
        guard ready else {
            let why = child.hasExited ? "exited with \(await child.termination())" : "was not ready within \(configuration.startTimeout)"
            if !child.hasExited { await child.stop(grace: .seconds(2)) }
            throw SupervisorError("\(spec.name) \(why) while starting; its last lines are above")
        }
        console.supervisor(restart == nil ? "\(spec.name) is ready" : "\(spec.name) restarted and ready")
    }

    private func waitUntilReady(_ spec: ChildSpec, child: ChildProcess, latch: ReadyLatch, deadline: ContinuousClock.Instant) async -> Bool {
        while !latch.isOpen {
            if child.hasExited || ContinuousClock.now >= deadline || stopping { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard case .healthRPC(let host, let port) = spec.readiness else { return true }
        let client = RPCClient(host: host, port: port, configuration: RPCClient.Configuration(tls: spec.probeTLS))
        defer { client.shutdown() }
        let health = HealthClient(client)
        while ContinuousClock.now < deadline, !child.hasExited, !stopping {
            if let answer = try? await health.check(.with { $0.service = "" }, options: CallOptions(timeout: .milliseconds(500))),
               answer.status == .serving {
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Keeps `spec` running until the supervisor stops.
    private func watch(_ spec: ChildSpec) async {
        var restarts = 0
        while !stopping, let child = running[spec.name] {
            let startedAt = ContinuousClock.now
            let termination = await child.termination()
            guard !stopping else { return }
            if ContinuousClock.now - startedAt >= configuration.backoff.stableAfter { restarts = 0 }
            restarts += 1
            let delay = configuration.backoff.delay(beforeRestart: restarts)
            console.supervisor("\(spec.name) stopped unexpectedly (\(termination)); restarting in \(delay)")
            try? await Task.sleep(for: delay)
            guard !stopping else { return }
            do {
                try await start(spec, restart: restarts)
            } catch {
                console.supervisor("\(error)")
                // `start` stopped the failed child; the loop sees it ended
                // and tries again after a longer delay.
            }
        }
    }

    /// Stops every running child, in the reverse of the start order.
    private func stopAll() async {
        guard !stopping else { return }
        stopping = true
        console.supervisor("stopping")
        for spec in configuration.children.reversed() {
            guard let child = running[spec.name], !child.hasExited else { continue }
            let termination = await child.stop(grace: configuration.stopGrace)
            console.supervisor("\(spec.name) stopped (\(termination))")
        }
    }
}

/// Set once a child has printed its ready line.
private final class ReadyLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false

    var isOpen: Bool { lock.withLock { opened } }

    func open() { lock.withLock { opened = true } }
}
