import FrameRPC
import ShopObservability
import Tracing

/// Makes every served call a span of its caller's trace.
///
/// The caller's `traceparent` (when it is a valid one; else a new trace
/// starts) becomes the parent of a new span id; the handler sees that span
/// in its metadata and in the task's `ServiceContext` (with the
/// `x-request-id`), so its log lines name the trace and the calls it makes
/// continue it. With a real tracer, the call also runs inside
/// `withSpan(method, ofKind: .server)`; with the default no-op tracer that
/// step is skipped, so the cost per call is parsing one header and drawing
/// one random number.
public struct TracingServerInterceptor: ServerInterceptor {
    private let tracer: (any Tracer)?

    /// - Parameter tracer: records spans; the bootstrapped one by default.
    public init(tracer: any Tracer = InstrumentationSystem.tracer) {
        self.tracer = tracer is NoOpTracer ? nil : tracer
    }

    public func intercept(
        context: ServerContext,
        next: (ServerContext) async throws -> ServerOutcome
    ) async throws -> ServerOutcome {
        let parent = context.metadata[TraceContext.traceParentKey].flatMap {
            TraceContext(traceParent: $0, traceState: context.metadata[TraceContext.traceStateKey])
        }
        let span = parent?.childSpan() ?? TraceContext.newTrace()
        var served = context
        served.metadata[TraceContext.traceParentKey] = span.traceParent
        if parent == nil { served.metadata[TraceContext.traceStateKey] = nil }
        let serviceContext = ServiceContext.request(trace: span, requestID: context.metadata[Metadata.ReservedKey.requestID])

        guard let tracer else {
            return try await ServiceContext.withValue(serviceContext) { try await next(served) }
        }
        return try await tracer.withSpan(context.method, context: serviceContext, ofKind: .server) { recorded in
            recorded.attributes["rpc.system"] = "framerpc"
            recorded.attributes["rpc.method"] = context.method
            recorded.attributes["trace.w3c.traceparent"] = span.traceParent
            do {
                // withSpan binds the span's context (ours plus the tracer's own) as current.
                let outcome = try await next(served)
                recorded.attributes["rpc.framerpc.status_code"] = "OK"
                return outcome
            } catch {
                recorded.attributes["rpc.framerpc.status_code"] = RPCError.answering(error).code.name
                throw error
            }
        }
    }
}
