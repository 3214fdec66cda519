#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ServiceLifecycle

/// Ends when the supervisor that started this process is gone, so a child
/// of `shop up` never outlives it, even when `shop up` itself is killed
/// with SIGKILL and cannot stop its children.
///
/// Run it with `successTerminationBehavior: .gracefullyShutdownGroup`:
/// when it returns, the process drains and exits as on SIGTERM.
public struct SupervisorWatch: Service {
    /// The variable `shop up` sets to its own pid in every child.
    public static let variable = "SHOP_SUPERVISOR_PID"

    private let supervisor: pid_t
    private let interval: Duration

    /// A watch for the supervisor named in `settings`, or `nil` when this
    /// process was not started by one.
    public init?(settings: [String: String], interval: Duration = .milliseconds(500)) {
        guard let text = settings[Self.variable], let pid = pid_t(text), pid > 1 else { return nil }
        self.supervisor = pid
        self.interval = interval
    }

    public func run() async throws {
        // Orphans are re-parented (to init or a subreaper), so the parent
        // pid changes the moment the supervisor dies.
        // A graceful shutdown for another reason ends the watch too.
        try? await cancelWhenGracefulShutdown {
            while getppid() == supervisor {
                try await Task.sleep(for: interval)
            }
        }
    }
}
