import Foundation
import Hummingbird
import Logging
import ShopObservability
import Tracing

/// The outermost layer around every request: it names the request, turns
/// every error into the API's JSON error body, stamps `X-Request-ID` and
/// `X-Process-Time` on every response, and writes the access log line.
///
/// Naming a request is its request id and its trace: a valid W3C
/// `traceparent` header (with its `tracestate`) makes the request a new
/// span of the caller's trace; without one, or with an invalid one, a new
/// trace starts. Both are bound in the task's `ServiceContext` for the
/// whole request, so every log line written meanwhile (the access line
/// included) carries `request_id` and `trace_id`, and every RPC made for
/// the request continues the trace (FrameRPC's tracing interceptor). The
/// response's `traceparent` names the gateway's span, so a caller that sent
/// none can still quote the trace id, as it can quote `X-Request-ID`.
///
/// The request id is the caller's `X-Request-ID` when it is a sensible one
/// (1 to 128 visible ASCII characters), else a new UUID; it goes upstream as
/// `x-request-id` metadata and comes back in every error body. Nothing
/// thrown below gets past this layer: unknown routes and Hummingbird's own
/// errors are JSON too, and an unexpected error is a bare 500 whose cause
/// goes to the log only.
struct RequestEnvelopeMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    static let requestIDHeader = HTTPFields.Element.Name("X-Request-ID")!
    static let processTimeHeader = HTTPFields.Element.Name("X-Process-Time")!
    static let maximumRequestIDLength = 128

    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.requestID = Self.requestID(from: request.headers[Self.requestIDHeader])
        let trace = Self.traceContext(from: request.headers)
        return try await ServiceContext.withValue(.request(trace: trace, requestID: context.requestID)) {
            var response = try await envelope(request, context: context, next: next)
            response.headers[Self.traceParentHeader] = trace.traceParent
            return response
        }
    }

    /// Everything but the naming, inside the request's `ServiceContext`.
    private func envelope(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let failure = GatewayError(error)
            if failure.status == .internalServerError {
                context.record.update { $0.internalError = String(describing: error) }
            }
            response = failure.response(requestID: context.requestID)
        }
        let elapsed = ContinuousClock.now - context.arrival
        response.headers[Self.requestIDHeader] = context.requestID
        response.headers[Self.processTimeHeader] = Self.milliseconds(elapsed)
        AccessLogEntry(
            request: request,
            status: Int(response.status.code),
            elapsed: elapsed,
            requestID: context.requestID,
            facts: context.record.current
        ).write(to: logger)
        return response
    }

    static let traceParentHeader = HTTPFields.Element.Name(TraceContext.traceParentKey)!
    static let traceStateHeader = HTTPFields.Element.Name(TraceContext.traceStateKey)!

    /// The gateway's span of the request: a child of the caller's valid
    /// `traceparent`, else the root of a new trace.
    static func traceContext(from headers: HTTPFields) -> TraceContext {
        let parent = headers[traceParentHeader].flatMap { TraceContext(traceParent: $0, traceState: headers[traceStateHeader]) }
        return parent?.childSpan() ?? TraceContext.newTrace()
    }

    /// The caller's id if it is a sensible one, else a new UUID.
    static func requestID(from header: String?) -> String {
        if let header {
            let id = header.trimmingSpaces
            if !id.isEmpty, id.count <= maximumRequestIDLength,
               id.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) {
                return String(id)
            }
        }
        return UUID().uuidString.lowercased()
    }

    /// Milliseconds with three decimals, `12.345`.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let microseconds = max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        let fraction = microseconds % 1_000
        return "\(microseconds / 1_000).\(String(repeating: "0", count: 3 - String(fraction).count))\(fraction)"
    }
}
