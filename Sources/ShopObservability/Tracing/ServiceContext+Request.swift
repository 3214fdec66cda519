import Tracing

/// What the current task is working for, carried in swift-distributed-tracing's
/// task-local `ServiceContext`: the W3C trace context and the request id.
///
/// The gateway binds both for the life of an HTTP request, a FrameRPC
/// server for the life of a call, the order service's outbox relay for one
/// delivery. Loggers read them through ``Logger/MetadataProvider/requestContext``
/// and outgoing calls propagate them, so nothing passes them by hand.
extension ServiceContext {
    /// The span the current work belongs to.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }

    /// The request id given or made at the gateway (`X-Request-ID`).
    public var requestID: String? {
        get { self[RequestIDKey.self] }
        set { self[RequestIDKey.self] = newValue }
    }

    /// The current context with `trace` and `requestID` set (a request id
    /// of `nil` keeps the one already there).
    public static func request(trace: TraceContext?, requestID: String?) -> ServiceContext {
        var context = ServiceContext.current ?? .topLevel
        context.traceContext = trace
        if let requestID { context.requestID = requestID }
        return context
    }
}

private enum TraceContextKey: ServiceContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "traceparent" }
}

private enum RequestIDKey: ServiceContextKey {
    typealias Value = String
    static var nameOverride: String? { "request_id" }
}
