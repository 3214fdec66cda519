import FrameRPC
import Foundation
import SwiftProtobuf

/// One REST route of the gateway, as the code generator describes it from a
/// method's `(shop.api.http)` option. The gateway serves routes from this
/// description alone: no route is written by hand.
///
/// The route's ``call`` works on protobuf's canonical JSON (proto field
/// names): the gateway turns path variables, query parameters and the body
/// into that JSON, and the response back into the REST JSON, using the
/// ``MessageShape``s generated beside the routes.
public struct RESTRoute: Sendable {
    public enum Verb: String, Sendable, CaseIterable {
        case get, put, post, delete, patch

        /// `GET`, `POST`, ...
        public var name: String { rawValue.uppercased() }
    }

    /// What the JSON body fills.
    public enum Body: Sendable, Hashable {
        /// No body is read.
        case none
        /// The body is the request message (path variables win over it).
        case all
        /// The body is this field of the request message.
        case field(String)
    }

    /// Who may call the route; checked by the gateway before any RPC.
    public enum Auth: Sendable, Hashable {
        case `public`
        /// Any valid token.
        case user
        /// The owner or an admin. With a field, the gateway compares that
        /// request field with the token's subject; without, the service
        /// decides ownership from the caller's identity.
        case owner(field: String?)
        case admin
    }

    public enum Call: Sendable {
        /// Request JSON in, response JSON out.
        case unary(@Sendable (RPCClient, Data, CallOptions) async throws -> Data)
        /// Request JSON in; `send` gets each response message's JSON.
        case serverStreaming(@Sendable (RPCClient, Data, CallOptions, _ send: @Sendable (Data) async throws -> Void) async throws -> Void)
    }

    public let verb: Verb
    /// The path template, `/api/users/{id}`.
    public let path: String
    /// The service's full name, `shop.user.v1.UserService`: which upstream to call.
    public let service: String
    /// The wire method name.
    public let method: String
    public let body: Body
    public let successStatus: Int
    public let auth: Auth
    /// Safe to retry.
    public let idempotent: Bool
    public let defaultDeadline: Duration?
    /// Dotted request-field paths bound by the template's variables, in order.
    public let pathVariables: [String]
    public let query: [QueryParameter]
    /// Proto names of the request and response messages (keys of the shapes).
    public let request: String
    public let response: String
    /// A response field to send as the JSON body instead of the whole
    /// message (`ListUsersResponse.users` is sent as a bare array).
    public let responseBody: String?
    public let call: Call

    public init(
        verb: Verb,
        path: String,
        service: String,
        method: String,
        body: Body,
        successStatus: Int,
        auth: Auth,
        idempotent: Bool,
        defaultDeadline: Duration?,
        pathVariables: [String],
        query: [QueryParameter],
        request: String,
        response: String,
        responseBody: String?,
        call: Call
    ) {
        self.verb = verb
        self.path = path
        self.service = service
        self.method = method
        self.body = body
        self.successStatus = successStatus
        self.auth = auth
        self.idempotent = idempotent
        self.defaultDeadline = defaultDeadline
        self.pathVariables = pathVariables
        self.query = query
        self.request = request
        self.response = response
        self.responseBody = responseBody
        self.call = call
    }

    /// Streaming routes are served as Server-Sent Events.
    public var isStreaming: Bool {
        if case .serverStreaming = call { return true }
        return false
    }

    /// Unknown JSON fields are ignored, as the REST API promises.
    public static var decodingOptions: JSONDecodingOptions {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return options
    }

    /// Proto field names (snake_case) and 64-bit integers as JSON numbers.
    /// Fields at their default value are left out, as protobuf's JSON
    /// mapping does; the message's shape says what they are.
    public static var encodingOptions: JSONEncodingOptions {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.alwaysPrintInt64sAsNumbers = true
        options.useDeterministicOrdering = true
        return options
    }
}

/// A request field filled from the query string (`?skip=10&tags=a&tags=b`).
public struct QueryParameter: Sendable, Hashable {
    /// The dotted field path, which is also the parameter's name.
    public let name: String
    public let kind: FieldShape.Kind
    public let repeated: Bool

    public init(_ name: String, _ kind: FieldShape.Kind, repeated: Bool = false) {
        self.name = name
        self.kind = kind
        self.repeated = repeated
    }
}
