import FrameRPC
import Hummingbird

/// The one table from upstream RPC status codes to HTTP (API.md, "Errors").
///
/// Caller mistakes keep the service's message, which names the field or
/// the rule (services promise it holds nothing internal). UNAVAILABLE and
/// DEADLINE_EXCEEDED get the gateway's own words, since the RPC runtime's
/// messages name internal addresses; everything not in the table is a 500
/// that says only "internal error".
public enum RPCStatusMapping {
    /// HTTP status per RPC code; codes not here are 500.
    public static let table: [RPCError.Code: HTTPResponse.Status] = [
        .invalidArgument: .unprocessableContent,
        .notFound: .notFound,
        .alreadyExists: .conflict,
        .failedPrecondition: .conflict,
        .aborted: .conflict,
        .unauthenticated: .unauthorized,
        .permissionDenied: .forbidden,
        .resourceExhausted: .tooManyRequests,
        .unavailable: .serviceUnavailable,
        .deadlineExceeded: .gatewayTimeout,
    ]

    /// The HTTP status for `code`.
    public static func httpStatus(for code: RPCError.Code) -> HTTPResponse.Status {
        table[code] ?? .internalServerError
    }

    /// The answer for an upstream call that failed with `error`.
    public static func gatewayError(for error: RPCError) -> GatewayError {
        switch error.code {
        case .unavailable:
            return .unavailable("the service is unavailable; try again shortly")
        case .deadlineExceeded:
            return .deadlineExceeded()
        case .resourceExhausted:
            return .tooManyRequests(error.message.isEmpty ? "too many requests" : error.message)
        case .unauthenticated:
            return .unauthenticated(error.message)
        default:
            let status = httpStatus(for: error.code)
            guard status != .internalServerError else { return .internal }
            return GatewayError(status: status, code: error.code.name, detail: error.message)
        }
    }
}
