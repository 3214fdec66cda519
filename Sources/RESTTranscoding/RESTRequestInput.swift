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

    /// Reads the body, if there is one and it is not only blanks, with
    /// `read` (the route's generated reader of its body) and then checks that
    /// nothing but whitespace follows the value. Read with the standard
    /// limits, straight from the body's bytes.
    ///
    /// When `read` stops at a field's error (a wrong type, a value outside
    /// its domain), the rest of the document is checked before that error is
    /// answered: a document that is not JSON (400) or over a limit (413)
    /// is reported as such, wherever that shows, as when a whole document
    /// was parsed before any field was read.
    public func readBody(_ read: (inout RESTBodyReader) throws(TranscodingError) -> Void) throws(TranscodingError) {
        guard let body else { return }
        try RESTBodyReader.read(body) { (reader: inout RESTBodyReader) throws(TranscodingError) in
            guard !reader.isBlank() else { return }
            do throws(TranscodingError) {
                try read(&reader)
                try reader.finish()
            } catch {
                if error.kind == .wrongType || error.kind == .invalid {
                    try RESTBodyReader.read(body) { (check: inout RESTBodyReader) throws(TranscodingError) in try check.skipDocument() }
                }
                throw error
            }
        }
    }
}
