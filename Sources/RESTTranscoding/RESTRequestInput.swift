import NIOCore

/// What a REST request gives its route's request builder: the template's
/// variables, the query items and the body, as the gateway read them.
/// The generated builder fills the request message from the body first,
/// then the query, then the path, so path beats query beats body.
public struct RESTRequestInput: Sendable {
    /// Percent-decoded values of the template's variables, by dotted field path.
    public var pathValues: [String: String]
    /// Decoded query items in order; a name may repeat.
    public var query: [(name: String, value: String)]
    /// The body as it arrived, for a route that reads one.
    public var body: ByteBuffer?
    /// The checked `Idempotency-Key` header: fills the request's
    /// `idempotency_key` field when it has one.
    public var idempotencyKey: String?

    public init(pathValues: [String: String] = [:], query: [(name: String, value: String)] = [], body: ByteBuffer? = nil, idempotencyKey: String? = nil) {
        self.pathValues = pathValues
        self.query = query
        self.body = body
        self.idempotencyKey = idempotencyKey
    }

    /// A path variable's value.
    public func path(_ variable: String) -> String? {
        pathValues[variable]
    }

    /// A single-valued query parameter: its last value, if given.
    public func query(_ name: String) -> String? {
        query.last { $0.name == name }?.value
    }

    /// A repeated query parameter: every value, in order.
    public func queryValues(_ name: String) -> [String] {
        query.compactMap { $0.name == name ? $0.value : nil }
    }

    /// The body parsed once with the standard limits (413 over them, 400
    /// when it is not JSON); `nil` when there is none or it is only blanks.
    public func bodyJSON() throws(TranscodingError) -> JSONValue? {
        guard let body, !body.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return nil }
        do {
            return try JSONParser.parse(body, limits: .standard)
        } catch {
            throw TranscodingError(error.kind == .limitExceeded ? .tooLarge : .malformed, "\(error)")
        }
    }
}
