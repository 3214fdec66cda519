import FrameRPC
import ShopObservability
import Tracing

/// Puts a `traceparent` on every outgoing call: a new span of the current
/// trace, so the callee's logs carry the same trace id.
///
/// The parent is, in this order: a `traceparent` already in the call's
/// metadata (set by the caller, or inherited by FrameRPC from the call
/// being served), the task's `ServiceContext` trace (the gateway's request,
/// an outbox delivery), else a new trace. With a real tracer the call also
/// runs inside `withSpan(method, ofKind: .client)`; with the no-op tracer
/// that step is skipped.
public struct TracingClientInterceptor: ClientInterceptor {
    private let tracer: (any Tracer)?

    /// - Parameter tracer: records spans; the bootstrapped one by default.
    public init(tracer: any Tracer = InstrumentationSystem.tracer) {
        self.tracer = tracer is NoOpTracer ? nil : tracer
    }

    public func intercept(
        context: ClientContext,
        next: (ClientContext) async throws -> ClientOutcome
    ) async throws -> ClientOutcome {
        let current = ServiceContext.current
        let parent = context.metadata[TraceContext.traceParentKey].flatMap {
            TraceContext(traceParent: $0, traceState: context.metadata[TraceContext.traceStateKey])
        } ?? current?.traceContext
        let span = parent?.childSpan() ?? TraceContext.newTrace()
        var outgoing = context
        outgoing.metadata[TraceContext.traceParentKey] = span.traceParent
        outgoing.metadata[TraceContext.traceStateKey] = span.traceState
        if outgoing.metadata[Metadata.ReservedKey.requestID] == nil, let requestID = current?.requestID {
            outgoing.metadata[Metadata.ReservedKey.requestID] = requestID
        }

        guard let tracer else { return try await next(outgoing) }
        var spanContext = current ?? .topLevel
        spanContext.traceContext = span
        return try await tracer.withSpan(context.method, context: spanContext, ofKind: .client) { recorded in
            recorded.attributes["rpc.system"] = "framerpc"
            recorded.attributes["rpc.method"] = context.method
            recorded.attributes["server.address"] = context.endpoint
            recorded.attributes["trace.w3c.traceparent"] = span.traceParent
            do {
                let outcome = try await next(outgoing)
                recorded.attributes["rpc.framerpc.status_code"] = "OK"
                return outcome
            } catch {
                recorded.attributes["rpc.framerpc.status_code"] = RPCError.answering(error).code.name
                throw error
            }
        }
    }
}
