import CoreMetrics
import FrameRPC
import Logging
import ShopObservability
import Tracing

/// The interceptors that make FrameRPC observable, in the order they must
/// run: the trace is bound first, so the metrics and the call log run
/// inside it.
public enum RPCObservability {
    /// Tracing, metrics and (when `callLogger` is given) a log line per call.
    public static func serverInterceptors(
        metrics: MetricsRegistry,
        callLogger: Logger?,
        tracer: any Tracer = InstrumentationSystem.tracer
    ) -> [any ServerInterceptor] {
        var interceptors: [any ServerInterceptor] = [
            TracingServerInterceptor(tracer: tracer),
            MetricsServerInterceptor(factory: metrics.factory),
        ]
        if let callLogger { interceptors.append(CallLogInterceptor(logger: callLogger)) }
        return interceptors
    }

    /// Trace propagation and metrics for outgoing calls.
    public static func clientInterceptors(
        metrics: MetricsRegistry,
        tracer: any Tracer = InstrumentationSystem.tracer
    ) -> [any ClientInterceptor] {
        [TracingClientInterceptor(tracer: tracer), MetricsClientInterceptor(factory: metrics.factory)]
    }

    /// Counts a server's connections.
    public static func connectionObserver(metrics: MetricsRegistry) -> any ConnectionObserver {
        ConnectionMetrics(factory: metrics.factory)
    }
}
