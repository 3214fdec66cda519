/// Middleware around every call a server serves: logging, metrics, tracing
/// and auth are plugged in here rather than written into handlers.
///
/// Interceptors run in the order the server was given them, the first one
/// outermost. Each may read the call's method and metadata, add metadata
/// before calling `next`, refuse the call by throwing an ``RPCError``
/// instead of calling `next`, and see the outcome: the returned trailers, or
/// the error `next` threw.
public protocol ServerInterceptor: Sendable {
    func intercept(
        context: ServerContext,
        next: (ServerContext) async throws -> ServerOutcome
    ) async throws -> ServerOutcome
}

/// What a call produced when it succeeded. Interceptors may add trailers.
public struct ServerOutcome: Sendable {
    /// Trailing metadata sent with the final `Response`.
    public var trailers: Metadata
    /// The serialized response message (unary calls), with room for its envelope.
    var payload: FramePayload

    init(trailers: Metadata = [:], payload: FramePayload = FramePayload(repeating: 0, count: 0)) {
        self.trailers = trailers
        self.payload = payload
    }
}

import Foundation

extension Array where Element == any ServerInterceptor {
    /// Runs `terminal` inside the interceptors from `index` on.
    func intercept(
        from index: Int = 0,
        context: ServerContext,
        terminal: (ServerContext) async throws -> ServerOutcome
    ) async throws -> ServerOutcome {
        guard index < count else { return try await terminal(context) }
        return try await self[index].intercept(context: context) { context in
            try await intercept(from: index + 1, context: context, terminal: terminal)
        }
    }
}
