import Foundation
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
/// A request payload that does not decode as the method's request message is
/// answered INVALID_ARGUMENT without calling the handler.
public struct RPCRouter: Sendable {
    private(set) var methods: [String: MethodHandler] = [:]
    /// Service names (`<package>.<Service>`) in registration order, for health.
    public private(set) var serviceNames: [String] = []

    public init() {}

    /// The methods registered, sorted by name.
    public var methodNames: [String] { methods.keys.sorted() }

    /// Binds a unary method.
    public mutating func registerUnary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        add(method, .unary { payload, context in
            let request = try Self.decode(Request.self, from: payload)
            let response = try await handler(request, context)
            return try response.serializedData()
        })
    }

    /// Binds a server-streaming method: the handler writes any number of
    /// responses to the writer, and the call ends when it returns.
    public mutating func registerServerStreaming<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: String,
        request: Request.Type = Request.self,
        response: Response.Type = Response.self,
        handler: @escaping @Sendable (Request, RPCWriter<Response>, ServerContext) async throws -> Void
    ) {
        add(method, .serverStreaming { payload, sink, context in
            let request = try Self.decode(Request.self, from: payload)
            try await handler(request, RPCWriter(sink: sink), context)
        })
    }

    private mutating func add(_ method: String, _ handler: MethodHandler) {
        guard let service = Self.serviceName(of: method) else {
            preconditionFailure("method name '\(method)' is not of the form /<package>.<Service>/<Method>")
        }
        precondition(methods[method] == nil, "method '\(method)' is registered twice")
        methods[method] = handler
        if !serviceNames.contains(service) { serviceNames.append(service) }
    }

    /// `pkg.Service` from `/pkg.Service/Method`, or `nil` if malformed.
    static func serviceName(of method: String) -> String? {
        let parts = method.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return String(parts[1])
    }

    private static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from payload: Data) throws -> M {
        do {
            return try M(serializedBytes: payload)
        } catch {
            throw RPCError(code: .invalidArgument, message: "request payload is not a valid \(M.protoMessageName)")
        }
    }
}

/// A method with decoding and encoding bound in, working on wire bytes.
enum MethodHandler: Sendable {
    /// Returns the serialized response message.
    case unary(@Sendable (Data, ServerContext) async throws -> Data)
    case serverStreaming(@Sendable (Data, StreamSink, ServerContext) async throws -> Void)
}
