import Foundation
import NIOCore
import SwiftProtobuf

/// A service whose methods a server can serve. Generated code conforms each
/// service's handler protocol to it.
public protocol RPCService: Sendable {
    /// Adds this service's methods to `router`.
    func registerMethods(with router: inout RPCRouter)
}

/// The table from wire method names (`/<package>.<Service>/<Method>`) to
/// handlers, with request decoding and response encoding bound in.
///
/// A method registered with a ``CallerPolicy`` answers a peer the policy
/// does not allow PERMISSION_DENIED before its payload is even decoded. A
/// request payload that does not decode as the method's request message is
/// answered INVALID_ARGUMENT without calling the handler.
public struct RPCRouter: Sendable {
    private(set) var methods: [String: MethodHandler] = [:]
    private var policies: [String: CallerPolicy] = [:]
    /// Service names (`<package>.<Service>`) in registration order, for health.
    public private(set) var serviceNames: [String] = []

    public init() {}

    /// The methods registered, sorted by name.
    public var methodNames: [String] { methods.keys.sorted() }

    /// Binds a unary method.
    ///
    /// - Parameter policy: the peers that may call it; `nil`: any peer.
    public mutating func registerUnary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        policy: CallerPolicy? = nil,
        handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        add(method, policy: policy, .unary { payload, context in
            try policy?.check(context)
            let request = try Self.decode(Request.self, from: payload)
            let response = try await handler(request, context)
            // Serialized straight into the buffer its Response frame goes out in.
            let bytes: FramePayload = try response.serializedBytes()
            return bytes
        })
    }

    /// Binds a server-streaming method: the handler writes any number of
    /// responses to the writer, and the call ends when it returns.
    ///
    /// - Parameter policy: the peers that may call it; `nil`: any peer.
    public mutating func registerServerStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        policy: CallerPolicy? = nil,
        handler: @escaping @Sendable (Request, RPCWriter<Response>, ServerContext) async throws -> Void
    ) {
        add(method, policy: policy, .serverStreaming { payload, sink, context in
            try policy?.check(context)
            let request = try Self.decode(Request.self, from: payload)
            try await handler(request, RPCWriter(sink: sink), context)
        })
    }

    /// The policy a method was registered with; `nil` for an open method
    /// or one not registered.
    public func policy(of method: String) -> CallerPolicy? {
        policies[method]
    }

    private mutating func add(_ method: String, policy: CallerPolicy?, _ handler: MethodHandler) {
        guard let service = Self.serviceName(of: method) else {
            preconditionFailure("method name '\(method)' is not of the form /<package>.<Service>/<Method>")
        }
        precondition(methods[method] == nil, "method '\(method)' is registered twice")
        methods[method] = handler
        policies[method] = policy
        if !serviceNames.contains(service) { serviceNames.append(service) }
    }

    /// Runs the unary method `method` in this process, as a connection does
    /// once it has read a request: the policy check, decoding, the handler,
    /// encoding. Interceptors do not run. For in-process calls and for tests
    /// of a service's registration with a chosen ``ServerContext``.
    ///
    /// - Returns: the serialized response message.
    /// - Throws: UNIMPLEMENTED for an unknown or server-streaming method;
    ///   whatever the policy, decoding or the handler throws.
    public func callUnary(_ method: String, payload: Data, context: ServerContext) async throws -> Data {
        guard case .unary(let handler)? = methods[method] else {
            throw RPCError(code: .unimplemented, message: "no unary method \(method)")
        }
        let response = try await ServerContext.$current.withValue(context) {
            try await handler(ByteBuffer(bytes: payload), context)
        }
        return Data(response.buffer.readableBytesView)
    }

    /// `pkg.Service` from `/pkg.Service/Method`, or `nil` if malformed.
    static func serviceName(of method: String) -> String? {
        let parts = method.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return String(parts[1])
    }

    private static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from payload: ByteBuffer) throws -> M {
        do {
            return try M(serializedBytes: payload.readableBytesSpan)
        } catch {
            throw RPCError(code: .invalidArgument, message: "request payload is not a valid \(M.protoMessageName)")
        }
    }
}

/// A method with decoding and encoding bound in, working on wire bytes.
enum MethodHandler: Sendable {
    /// Takes the request message's bytes (a slice of its frame); returns
    /// the response message serialized with room for its envelope.
    case unary(@Sendable (ByteBuffer, ServerContext) async throws -> FramePayload)
    case serverStreaming(@Sendable (ByteBuffer, StreamSink, ServerContext) async throws -> Void)
}
