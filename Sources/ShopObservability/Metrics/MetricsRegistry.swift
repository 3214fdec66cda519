import CoreMetrics
import Prometheus

/// One process's metrics: a Prometheus collector registry and the
/// swift-metrics factory that records into it.
///
/// Everything that records metrics is handed a registry (the gateway's
/// configuration, a service's environment) rather than reaching for the
/// global `MetricsSystem`, so a test can give each system under test its
/// own and count exactly its traffic. A process uses ``shared``, which
/// ``Observability/bootstrap(processName:logLevel:logSink:)`` also installs
/// as the `MetricsSystem` backend for libraries that record through it.
public struct MetricsRegistry: Sendable {
    /// The process's registry: what `GET /metrics` serves by default.
    public static let shared = MetricsRegistry()

    public let registry: PrometheusCollectorRegistry
    /// Records into ``registry``; pass it as `factory:` to swift-metrics types.
    public let factory: PrometheusMetricsFactory

    /// Latency buckets from 0.5 ms to 10 s: in-process calls answer in well
    /// under a millisecond, the default buckets start at 5 ms.
    public static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10),
    ]

    /// A registry of its own.
    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.registry = registry
        self.factory = factory
    }

    /// Everything recorded so far in the Prometheus text format (0.0.4).
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// The content type of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
