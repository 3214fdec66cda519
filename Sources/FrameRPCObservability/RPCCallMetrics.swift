import CoreMetrics
import FrameRPC
import Metrics
import ShopObservability

/// The series one side (server or client) of FrameRPC records per call:
///
/// - `rpc_<side>_calls_total{method, code}`: finished calls by status name (`OK`, `NOT_FOUND`, ...);
/// - `rpc_<side>_call_duration_seconds{method}`: a latency histogram;
/// - `rpc_<side>_calls_in_flight`: calls started and not yet finished.
///
/// Method names are bounded: a server only intercepts methods it serves, a
/// client only calls what its generated stubs name.
struct RPCCallMetrics: Sendable {
    private struct Outcome: Hashable, Sendable {
        let method: String
        let code: String
    }

    private let calls: MetricsCache<Outcome, Counter>
    private let durations: MetricsCache<String, CoreMetrics.Timer>
    private let inFlight: Meter

    init(side: String, factory: any MetricsFactory) {
        let callsLabel = "rpc_\(side)_calls_total"
        let durationLabel = "rpc_\(side)_call_duration_seconds"
        calls = MetricsCache { key in
            Counter(label: callsLabel, dimensions: [("method", key.method), ("code", key.code)], factory: factory)
        }
        durations = MetricsCache { method in
            CoreMetrics.Timer(label: durationLabel, dimensions: [("method", method)], factory: factory)
        }
        inFlight = Meter(label: "rpc_\(side)_calls_in_flight", factory: factory)
    }

    /// Runs `call`, recording it under `method`.
    func measure<Outcome>(method: String, _ call: () async throws -> Outcome) async throws -> Outcome {
        let start = ContinuousClock.now
        inFlight.increment()
        do {
            let outcome = try await call()
            finish(method: method, code: "OK", start: start)
            return outcome
        } catch {
            finish(method: method, code: RPCError.answering(error).code.name, start: start)
            throw error
        }
    }

    private func finish(method: String, code: String, start: ContinuousClock.Instant) {
        inFlight.decrement()
        durations(method).record(duration: ContinuousClock.now - start)
        calls(.init(method: method, code: code)).increment()
    }
}

/// Counts every call a server serves, by method and status, and times it.
public struct MetricsServerInterceptor: ServerInterceptor {
    private let metrics: RPCCallMetrics

    /// - Parameter factory: where the series are recorded
    ///   (`MetricsRegistry.factory`).
    public init(factory: any MetricsFactory) {
        metrics = RPCCallMetrics(side: "server", factory: factory)
    }

    public func intercept(
        context: ServerContext,
        next: (ServerContext) async throws -> ServerOutcome
    ) async throws -> ServerOutcome {
        try await metrics.measure(method: context.method) { try await next(context) }
    }
}

/// Counts every call a client makes, by method and status, and times it
/// (retries made inside FrameRPC for never-processed calls included).
public struct MetricsClientInterceptor: ClientInterceptor {
    private let metrics: RPCCallMetrics

    /// - Parameter factory: where the series are recorded.
    public init(factory: any MetricsFactory) {
        metrics = RPCCallMetrics(side: "client", factory: factory)
    }

    public func intercept(
        context: ClientContext,
        next: (ClientContext) async throws -> ClientOutcome
    ) async throws -> ClientOutcome {
        try await metrics.measure(method: context.method) { try await next(context) }
    }
}
