import FrameRPC
import NIOCore

/// One REST request built into its typed request message, ready to send:
/// what a route's ``RESTRoute/prepare`` returns. The message is built once;
/// ``Invocation`` may run more than once (the gateway retries idempotent
/// calls).
public struct RESTCall: Sendable {
    public enum Invocation: Sendable {
        /// Calls the RPC; the response as REST JSON.
        case unary(@Sendable (RPCClient, CallOptions) async throws -> RESTResponse)
        /// Calls the streaming RPC; `send` gets each response message's REST JSON.
        case serverStreaming(@Sendable (RPCClient, CallOptions, _ send: @Sendable (ByteBuffer) async throws -> Void) async throws -> Void)
    }

    /// The typed request message, as built.
    public let message: any RESTMessage
    /// A string field of the request message by its dotted proto path (the
    /// owner field, the account's `email`); `nil` for paths the route does
    /// not expose.
    public let string: @Sendable (String) -> String?
    public let invocation: Invocation

    public init(message: any RESTMessage, string: @escaping @Sendable (String) -> String?, invocation: Invocation) {
        self.message = message
        self.string = string
        self.invocation = invocation
    }
}

/// A unary route's answer: the REST JSON body and, for a list, the next
/// page's token (the body of a list route is the bare array, so the token
/// travels beside it as the `Next-Page-Token` header).
public struct RESTResponse: Sendable {
    public var body: ByteBuffer
    public var nextPageToken: String?

    public init(body: ByteBuffer, nextPageToken: String? = nil) {
        self.body = body
        self.nextPageToken = nextPageToken
    }

    /// No body (a 204).
    public static var empty: RESTResponse { RESTResponse(body: ByteBuffer()) }

    /// A page token as the header sends it: `nil` when empty (the last page).
    public static func pageToken(_ token: String) -> String? {
        token.isEmpty ? nil : token
    }
}
