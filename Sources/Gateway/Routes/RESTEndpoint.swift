import FrameRPC
import Foundation
import Hummingbird
import RESTTranscoding

/// Serves one route of the generated table: the whole life of a REST
/// request, in the order that keeps work away from callers who may not do it.
///
/// 1. The deadline is fixed from the arrival time (``DeadlinePolicy``).
/// 2. Auth per the route (``Authenticator``): 401/403 before the body is
///    even read, and before any RPC. A password route (login,
///    registration) takes its client address's token here too, and its
///    account's once the body is read (``PasswordRouteGuard``).
/// 3. The body is read up to the limit (413), and path, query, body and
///    `Idempotency-Key` become the typed request message (the route's
///    generated ``RESTRoute/prepare``; 400/413/422); the owner field and
///    the account's email are read from it; the token's account is confirmed (``AccountCheck``, 401 for a
///    revoked token); the token, request id and idempotency key go out as
///    metadata.
/// 5. The call goes through the upstream's breaker and retries; its answer
///    becomes the route's success status and REST JSON, or the error table's
///    status. Streaming routes answer with Server-Sent Events.
struct RESTEndpoint: HTTPResponder {
    typealias Context = GatewayRequestContext

    /// The request header an idempotency key arrives in, and the metadata
    /// key it is passed on as (the generated builder also sets the request's
    /// `idempotency_key` field when it has one).
    static let idempotencyHeader = "Idempotency-Key"
    static let idempotencyMetadataKey = "idempotency-key"
    static let maximumIdempotencyKeyLength = 255
    /// Header names built once, not on every request.
    private static let idempotencyHeaderName = HTTPFields.Element.Name(idempotencyHeader)!
    private static let timeoutHeaderName = HTTPFields.Element.Name(DeadlinePolicy.timeoutHeader)!
    /// A list's next page token (AIP-158 `next_page_token`): the body of a
    /// list route is the bare array, so the token is a header beside it.
    static let nextPageTokenHeader = "Next-Page-Token"
    private static let nextPageTokenHeaderName = HTTPFields.Element.Name(nextPageTokenHeader)!

    let route: RESTRoute
    let upstream: Upstream
    let core: GatewayCore

    func respond(to request: Request, context: Context) async throws -> Response {
        context.record.update {
            $0.route = route.path
            $0.upstream = upstream.name
        }
        let budget = try core.deadlines.budget(
            routeDefault: route.defaultDeadline,
            requestedTimeout: request.headers[Self.timeoutHeaderName]
        )
        let deadline = budget.deadline(from: context.arrival)
        let pathValues = try pathValues(context)

        var ownerValue: String?
        if case .owner(field: .some(let field)) = route.auth {
            ownerValue = pathValues[field]
        }
        let identity = try await core.authenticator.authorize(
            route.auth,
            authorization: request.headers[.authorization],
            ownerValue: ownerValue
        )
        if let identity { context.record.update { $0.userID = identity.userID } }

        let idempotencyKey = try Self.idempotencyKey(request.headers[Self.idempotencyHeaderName])
        let hashesPassword = PasswordRouteGuard.guards(route)
        if hashesPassword { try core.passwordRoutes.admit(address: context.clientAddress) }
        let body = route.body == .none ? nil : try await RequestInput.body(of: request, limit: core.bodyLimit)
        // A route that takes a body needs one (the document says it is
        // required): an empty body is a client mistake, not an empty message.
        if let body, body.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw GatewayError.badRequest("the request needs a JSON body")
        }
        let call = try route.prepare(RESTRequestInput(
            pathValues: pathValues,
            query: try RequestInput.queryItems(request.uri.query),
            body: body,
            idempotencyKey: idempotencyKey
        ))
        var account: String?
        if hashesPassword, let email = call.string(PasswordRouteGuard.accountField) {
            account = try core.passwordRoutes.admit(email: email)
        }
        if ownerValue == nil, let identity, case .owner(field: .some(let field)) = route.auth {
            try Authenticator.checkOwner(field, identity: identity, value: call.string(field))
        }

        var metadata = Metadata()
        metadata[Metadata.ReservedKey.requestID] = context.requestID
        if let identity {
            try await core.authenticator.confirmAccount(of: identity)
            identity.write(to: &metadata)
        }
        if let idempotencyKey { metadata[Self.idempotencyMetadataKey] = idempotencyKey }
        let options = CallOptions(deadline: deadline, metadata: metadata)
        let policy = Upstream.CallPolicy(
            idempotent: route.idempotent,
            deadlinesAreUpstreamFailures: !budget.loweredByCaller,
            hasOwnAdmission: hashesPassword
        )

        // Time spent here counts: a request whose deadline passed already
        // never reaches the upstream (nor its breaker).
        guard ContinuousClock.now < deadline else { throw GatewayError.deadlineExceeded() }

        switch call.invocation {
        case .unary(let invoke):
            let unary = {
                try await upstream.unary(policy: policy, deadline: deadline, record: context.record) { client in
                    try await invoke(client, options)
                }
            }
            let response = hashesPassword ? try await core.passwordRoutes.withHashingSlot(unary) : try await unary()
            if let account { core.passwordRoutes.succeeded(account: account) }
            return success(response)
        case .serverStreaming(let invoke):
            return try await EventStream.open(
                route: route,
                streamOwner: identity?.userID ?? "address \(context.clientAddress)",
                call: invoke,
                request: request,
                options: options,
                policy: policy,
                upstream: upstream,
                core: core,
                context: context
            )
        }
    }

    /// The route's success response for the upstream's answer.
    private func success(_ response: RESTResponse) -> Response {
        guard route.successStatus != 204 else { return Response(status: .noContent) }
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token = response.nextPageToken { headers[Self.nextPageTokenHeaderName] = token }
        return Response(
            status: HTTPResponse.Status(code: route.successStatus),
            headers: headers,
            body: ResponseBody(byteBuffer: response.body)
        )
    }

    /// The template's variables, percent-decoded.
    private func pathValues(_ context: Context) throws(GatewayError) -> [String: String] {
        var values: [String: String] = [:]
        for variable in route.pathVariables {
            guard let raw = context.parameters[variable[...]] else { continue }
            guard let value = RequestInput.decode(raw) else {
                throw .badRequest("\(variable): is not valid percent-encoding")
            }
            values[variable] = value
        }
        return values
    }

    /// The `Idempotency-Key` header checked: at most 255 visible characters
    /// and 255 bytes (a character can be any number of bytes).
    static func idempotencyKey(_ header: String?) throws(GatewayError) -> String? {
        guard let header else { return nil }
        let key = header.trimmingSpaces
        guard !key.isEmpty else { return nil }
        guard key.utf8.count <= maximumIdempotencyKeyLength, key.count <= maximumIdempotencyKeyLength, key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value != 0x7F }) else {
            throw .badRequest("\(idempotencyHeader) must be at most \(maximumIdempotencyKeyLength) visible characters")
        }
        return String(key)
    }
}
