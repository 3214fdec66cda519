import Logging
import Metrics
import Synchronization

/// The one call a process makes at start, before it builds anything that
/// logs or records metrics.
public enum Observability {
    /// Sends every `Logger` of the process to ``JSONLogHandler`` (one JSON
    /// object per line on standard error, with the request id and trace id
    /// of the current request), and makes ``MetricsRegistry/shared`` the
    /// `MetricsSystem` backend.
    ///
    /// Call it once per process, first thing: swift-log and swift-metrics
    /// allow one bootstrap each, so a later call changes nothing and only
    /// returns the registry. Tests never call it; they hand loggers and
    /// registries to what they start.
    ///
    /// - Parameters:
    ///   - processName: the `service` field of every line: `gateway`, `user`, ...
    ///   - logLevel: the least severe level written.
    ///   - logSink: where lines go.
    /// - Returns: the process's registry, to serve on `/metrics`.
    @discardableResult
    public static func bootstrap(
        processName: String,
        logLevel: Logger.Level = .info,
        logSink: any LogSink = FileDescriptorLogSink.standardError
    ) -> MetricsRegistry {
        guard !bootstrapped.exchange(true, ordering: .acquiringAndReleasing) else { return MetricsRegistry.shared }
        LoggingSystem.bootstrap({ label, provider in
            JSONLogHandler(label: label, processName: processName, sink: logSink, logLevel: logLevel, metadataProvider: provider)
        }, metadataProvider: .requestContext)
        MetricsSystem.bootstrap(MetricsRegistry.shared.factory)
        return MetricsRegistry.shared
    }

    private static let bootstrapped = Atomic<Bool>(false)

    /// A logger writing JSON lines to `sink`, without touching the global
    /// logging system: what tests use to read the lines a system wrote.
    public static func logger(
        label: String,
        processName: String,
        sink: any LogSink,
        logLevel: Logger.Level = .info
    ) -> Logger {
        var logger = Logger(label: label) { label in
            JSONLogHandler(label: label, processName: processName, sink: sink, logLevel: logLevel, metadataProvider: .requestContext)
        }
        logger.logLevel = logLevel
        return logger
    }
}
