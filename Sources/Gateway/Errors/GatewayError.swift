import FrameRPC
import Hummingbird
import RESTTranscoding

/// An error answered to the HTTP caller: a status, an API error code
/// (`NOT_FOUND`) and a message for humans, rendered as the API's error body
/// `{"detail": ..., "code": ..., "request_id": ...}`; a request that broke
/// its fields' `(shop.api.rules)` adds `"errors": [{"field", "rule",
/// "message"}, ...]` with every failing field.
///
/// Every failure inside the gateway becomes one of these before it reaches
/// the caller (``init(_:)``), so no response carries an internal detail: a
/// 500 always says only "internal error".
public struct GatewayError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// The API error code, a gRPC status name (`INVALID_ARGUMENT`).
    public var code: String
    /// A message for humans.
    public var detail: String
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`, `Allow`).
    public var headers: HTTPFields
    /// The fields that broke their rules (422), in field order; empty otherwise.
    public var violations: [FieldViolation]

    public init(status: HTTPResponse.Status, code: String, detail: String, headers: HTTPFields = [:], violations: [FieldViolation] = []) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
        self.violations = violations
    }

    public var description: String { "\(status.code) \(code): \(detail)" }

    // MARK: The errors the gateway raises itself

    /// 400: the request cannot be read (not JSON, a wrong type, a bad header).
    public static func badRequest(_ detail: String) -> GatewayError {
        GatewayError(status: .badRequest, code: "INVALID_ARGUMENT", detail: detail)
    }

    /// 401, with the `WWW-Authenticate` challenge.
    public static func unauthenticated(_ detail: String) -> GatewayError {
        var headers = HTTPFields()
        headers[HTTPFields.Element.Name("WWW-Authenticate")!] = "Bearer"
        return GatewayError(status: .unauthorized, code: "UNAUTHENTICATED", detail: detail, headers: headers)
    }

    /// 403.
    public static func permissionDenied(_ detail: String) -> GatewayError {
        GatewayError(status: .forbidden, code: "PERMISSION_DENIED", detail: detail)
    }

    /// 404.
    public static func notFound(_ detail: String) -> GatewayError {
        GatewayError(status: .notFound, code: "NOT_FOUND", detail: detail)
    }

    /// 405 with `Allow`: the path exists, the method does not.
    public static func methodNotAllowed(allowed: [String]) -> GatewayError {
        var headers = HTTPFields()
        headers[.allow] = allowed.joined(separator: ", ")
        return GatewayError(status: .methodNotAllowed, code: "UNIMPLEMENTED", detail: "method not allowed here; allowed: \(allowed.joined(separator: ", "))", headers: headers)
    }

    /// 422 with every field that broke its rules.
    public static func ruleViolations(_ violations: RuleViolations) -> GatewayError {
        let count = violations.violations.count
        let detail = count == 1 ? violations.description : "\(count) fields failed validation: \(violations.description)"
        return GatewayError(status: .unprocessableContent, code: "INVALID_ARGUMENT", detail: detail, violations: violations.violations)
    }

    /// 413: the body is larger than the limit.
    public static func payloadTooLarge(limit: Int) -> GatewayError {
        GatewayError(status: .contentTooLarge, code: "INVALID_ARGUMENT", detail: "the request body is larger than \(limit) bytes")
    }

    /// 429 with `Retry-After`.
    public static func tooManyRequests(_ detail: String, retryAfter: Duration = .seconds(1)) -> GatewayError {
        GatewayError(status: .tooManyRequests, code: "RESOURCE_EXHAUSTED", detail: detail, headers: retryAfterHeader(retryAfter))
    }

    /// 503 with `Retry-After`: the upstream is down or its circuit is open.
    public static func unavailable(_ detail: String, retryAfter: Duration = .seconds(1)) -> GatewayError {
        GatewayError(status: .serviceUnavailable, code: "UNAVAILABLE", detail: detail, headers: retryAfterHeader(retryAfter))
    }

    /// 504.
    public static func deadlineExceeded() -> GatewayError {
        GatewayError(status: .gatewayTimeout, code: "DEADLINE_EXCEEDED", detail: "the request did not complete before its deadline")
    }

    /// 500, never with a detail.
    public static let `internal` = GatewayError(status: .internalServerError, code: "INTERNAL", detail: "internal error")

    /// `Retry-After` in whole seconds, at least 1.
    static func retryAfterHeader(_ wait: Duration) -> HTTPFields {
        let (seconds, attoseconds) = wait.components
        let whole = max(1, seconds + (attoseconds > 0 ? 1 : 0))
        var headers = HTTPFields()
        headers[HTTPFields.Element.Name("Retry-After")!] = String(whole)
        return headers
    }

    // MARK: From other errors

    /// The answer for any error thrown while serving a request.
    public init(_ error: any Error) {
        switch error {
        case let error as GatewayError:
            self = error
        case let error as RuleViolations:
            self = .ruleViolations(error)
        case let error as RPCError:
            self = RPCStatusMapping.gatewayError(for: error)
        case let error as TranscodingError:
            self = GatewayError(transcoding: error)
        case let error as any HTTPResponseError:
            self = GatewayError(httpStatus: error.status)
        default:
            self = .internal
        }
    }

    /// A request that could not become a request message: 400 for malformed
    /// JSON and wrong types, 413 for JSON over the parser's limits, 422 for
    /// values outside their domain.
    public init(transcoding error: TranscodingError) {
        switch error.kind {
        case .malformed, .wrongType:
            self = .badRequest(error.message)
        case .invalid:
            self = GatewayError(status: .unprocessableContent, code: "INVALID_ARGUMENT", detail: error.message)
        case .tooLarge:
            self = GatewayError(status: .contentTooLarge, code: "INVALID_ARGUMENT", detail: error.message)
        case .internal:
            self = .internal
        }
    }

    /// An error Hummingbird raised (unknown route, a body it refused).
    init(httpStatus: HTTPResponse.Status) {
        switch httpStatus.code {
        case 404: self = .notFound("no such route")
        case 405: self = GatewayError(status: httpStatus, code: "NOT_FOUND", detail: "no such route")
        case 413: self = GatewayError(status: .contentTooLarge, code: "INVALID_ARGUMENT", detail: "the request body is too large")
        case 400..<500: self = GatewayError(status: httpStatus, code: "INVALID_ARGUMENT", detail: httpStatus.reasonPhrase)
        default: self = .internal
        }
    }

    // MARK: Rendering

    /// The API's error body for the request `requestID`.
    public func body(requestID: String) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = [
            ("detail", .string(detail)),
            ("code", .string(code)),
            ("request_id", .string(requestID)),
        ]
        if !violations.isEmpty {
            members.append(("errors", .array(violations.map { violation in
                .object([
                    ("field", .string(violation.field)),
                    ("rule", .string(violation.rule)),
                    ("message", .string(violation.message)),
                ])
            })))
        }
        return JSONValue.object(members).serialized
    }

    /// The whole response.
    public func response(requestID: String) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body(requestID: requestID))))
    }
}
