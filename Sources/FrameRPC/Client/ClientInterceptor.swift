import Foundation
import NIOCore

/// Middleware around every call a client makes: logging, metrics, tracing
/// and credentials are plugged in here.
///
/// Interceptors run in the order the client was given them, the first one
/// outermost. Each may read the method, add metadata or tighten the deadline
/// before calling `next`, fail the call without sending it by throwing, and
/// see the outcome: the returned trailers, or the ``RPCError`` `next` threw.
/// For a server-streaming call, `next` returns when the response stream has
/// been consumed.
public protocol ClientInterceptor: Sendable {
    func intercept(
        context: ClientContext,
        next: (ClientContext) async throws -> ClientOutcome
    ) async throws -> ClientOutcome
}

/// An outgoing call as interceptors see it.
public struct ClientContext: Sendable {
    /// The wire method name, `/<package>.<Service>/<Method>`.
    public let method: String
    /// The request metadata to be sent.
    public var metadata: Metadata
    /// The call's deadline, if it has one.
    public var deadline: ContinuousClock.Instant?
    /// What the client talks to (``RPCClient/endpoint``): `host:port`, or
    /// the target of a balanced client. Interceptors run once per call,
    /// before an endpoint is picked for each attempt.
    public let endpoint: String
}

/// What a successful call returned. Interceptors see the trailers.
public struct ClientOutcome: Sendable {
    public var trailers: Metadata
    /// The response message's bytes: a slice of the frame they came in.
    var payload: ByteBuffer

    init(trailers: Metadata = [:], payload: ByteBuffer = ByteBuffer()) {
        self.trailers = trailers
        self.payload = payload
    }
}

extension Array where Element == any ClientInterceptor {
    func intercept(
        from index: Int = 0,
        context: ClientContext,
        terminal: (ClientContext) async throws -> ClientOutcome
    ) async throws -> ClientOutcome {
        guard index < count else { return try await terminal(context) }
        return try await self[index].intercept(context: context) { context in
            try await intercept(from: index + 1, context: context, terminal: terminal)
        }
    }
}
