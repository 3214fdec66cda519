/// Why a REST request could not become a request message.
public struct TranscodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Not JSON at all: HTTP 400.
        case malformed
        /// JSON, but a field has the wrong type: HTTP 400.
        case wrongType
        /// The right type, but not an allowed value: HTTP 422.
        case invalid
        /// JSON with more structure than the parser's limits allow (members
        /// per object, values per document, depth): HTTP 413.
        case tooLarge
        /// The route table disagrees with itself: a bug, HTTP 500.
        case `internal`
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func wrongType(_ path: String, _ expected: String) -> TranscodingError {
        TranscodingError(.wrongType, "\(path.isEmpty ? "the body" : path): must be \(expected)")
    }

    /// The HTTP status the gateway answers with.
    public var httpStatus: Int {
        switch kind {
        case .malformed, .wrongType: 400
        case .invalid: 422
        case .tooLarge: 413
        case .internal: 500
        }
    }

    public var description: String { message }
}
