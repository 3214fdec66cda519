import Logging
import Tracing

extension Logger.MetadataProvider {
    /// `request_id`, `trace_id` and `span_id` of the request the current
    /// task works for, from its `ServiceContext` (see
    /// ``Tracing/ServiceContext/traceContext``); nothing outside a request.
    ///
    /// The swift-log way to put request context on every line: loggers are
    /// made once, long before any request, and the provider asks the task
    /// at each log statement.
    public static let requestContext = Logger.MetadataProvider {
        guard let context = ServiceContext.current else { return [:] }
        var metadata: Logger.Metadata = [:]
        if let requestID = context.requestID { metadata["request_id"] = .string(requestID) }
        if let trace = context.traceContext {
            metadata["trace_id"] = .string(trace.traceID)
            metadata["span_id"] = .string(trace.spanIDString)
        }
        return metadata
    }
}
