import SwiftProtobufPluginLibrary

/// What the generator knows about one service, independent of how it is
/// rendered.
struct ServiceModel {
    /// `UserService`.
    let name: String
    /// `shop.user.v1.UserService`.
    let fullName: String
    /// The `.proto` file that declares it.
    let file: String
    let comments: String
    let methods: [MethodModel]

    /// Whether any method has a call policy: then every method has one
    /// (``ModelBuilder`` refuses a service that leaves one uncovered) and the
    /// registration enforces them; otherwise the service is open to any peer.
    var hasPolicies: Bool { methods.contains { $0.policy != nil } }
}

/// Which verified services may call a method over FrameRPC, from its
/// `(shop.api.policy)` or its service's `(shop.api.default_policy)`.
struct PolicyModel: Equatable {
    /// Service names, sorted, without repeats.
    let callers: [String]
    /// Whether it is the method's own option rather than the service default.
    let isMethodOwn: Bool
}

struct MethodModel {
    /// `CreateUser`.
    let name: String
    /// `createUser`: the Swift function name.
    let swiftName: String
    /// `/shop.user.v1.UserService/CreateUser`.
    let wireName: String
    let comments: String
    let input: MessageRef
    let output: MessageRef
    let serverStreaming: Bool
    let idempotent: Bool
    /// The deadline a call gets when the caller gives none.
    let defaultDeadlineMilliseconds: UInt32?
    let route: RouteModel?
    /// Examples of the REST request body and response declared with
    /// `(shop.api.doc)`; `nil` where the generator derives one from field
    /// examples.
    let requestExample: JSONValue?
    let responseExample: JSONValue?

    /// The leading comment as summary and description.
    var doc: DocComment { DocComment(comments) }
    /// `nil` when neither the method nor its service declares one.
    let policy: PolicyModel?
}

/// A message type by its proto and Swift names.
struct MessageRef {
    let descriptor: Descriptor
    /// `shop.user.v1.User`.
    var protoName: String { descriptor.fullName }
    /// `Shop_User_V1_User`.
    let swiftName: String
}

/// The REST route of a method, from its `(shop.api.http)` option.
struct RouteModel {
    enum Verb: String, CaseIterable {
        case get, put, post, delete, patch
    }

    enum Body: Equatable {
        case none
        case all
        case field(String)
    }

    enum Auth: String {
        case `public`, user, `self`, admin
    }

    let verb: Verb
    /// `/api/users/{id}`.
    let path: String
    /// Dotted field paths bound by path variables, in template order.
    let pathVariables: [String]
    let body: Body
    let successStatus: Int
    let auth: Auth
    /// For `self`: the request field holding the owner's user id.
    let ownerField: String?
    /// The response field sent as the body instead of the whole message.
    let responseBody: String?
    let query: [QueryParameter]

    /// The template with variables blanked, so `/a/{id}` and `/a/{x}` match.
    var shape: String {
        path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("{") ? "{}" : String($0) }
            .joined(separator: "/")
    }
}

/// A request field filled from the query string.
struct QueryParameter {
    /// Dotted field path, `filter.category`.
    let name: String
    let kind: ScalarKind
    let repeated: Bool
}

/// The JSON-level kind of a scalar field, as the gateway converts it.
enum ScalarKind: Equatable {
    case string
    case bool
    case int32
    case uint32
    case int64
    case uint64
    case double
    case bytes
    /// An int64 amount of cents shown as a decimal number.
    case money
    /// Values without the common prefix, lower-cased: `ORDER_STATUS_PAID` -> `paid`.
    case enumeration(protoName: String, prefix: String, values: [String])
}
