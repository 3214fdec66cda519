import FrameRPC

/// One REST route of the gateway, as the code generator describes it from a
/// method's `(shop.api.http)` option. The gateway serves routes from this
/// description alone: no route is written by hand.
///
/// The route's ``prepare`` is generated code that builds the typed request
/// message straight from path variables, query parameters and the body, and
/// whose ``RESTCall`` calls the RPC and writes the typed response as REST
/// JSON into a `ByteBuffer`: no protobuf JSON in between.
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
    /// Proto names of the request and response messages.
    public let request: String
    public let response: String
    /// The request message's top-level field names (proto names).
    public let requestFields: [String]
    /// A response field to send as the JSON body instead of the whole
    /// message (`ListUsersResponse.users` is sent as a bare array).
    public let responseBody: String?
    /// Served as Server-Sent Events.
    public let isStreaming: Bool
    /// Builds the request message from one request (400/413/422 when it
    /// cannot be built), ready to call.
    public let prepare: @Sendable (RESTRequestInput) throws -> RESTCall

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
        requestFields: [String],
        responseBody: String?,
        isStreaming: Bool,
        prepare: @escaping @Sendable (RESTRequestInput) throws -> RESTCall
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
        self.requestFields = requestFields
        self.responseBody = responseBody
        self.isStreaming = isStreaming
        self.prepare = prepare
    }
}

/// A request field filled from the query string (`?skip=10&tags=a&tags=b`).
public struct QueryParameter: Sendable, Hashable {
    /// The dotted field path, which is also the parameter's name.
    public let name: String
    public let repeated: Bool

    public init(_ name: String, repeated: Bool = false) {
        self.name = name
        self.repeated = repeated
    }
}
