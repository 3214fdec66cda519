import Hummingbird
import Logging
import RESTTranscoding

/// One access log line per request, as a JSON object so that log tools can
/// read it without a parser of their own:
///
/// ```json
/// {"type":"access","request_id":"...","method":"GET","path":"/api/orders/42",
///  "route":"/api/orders/{id}","status":200,"duration_ms":3.2,"user_id":"...",
///  "upstream":"order","endpoint":"10.0.0.4:7004","upstream_status":"OK","attempts":1}
/// ```
///
/// It holds no header values and no query string: an `Authorization` token,
/// an idempotency key or a password can never reach the log through it.
struct AccessLogEntry: Sendable {
    let method: String
    let path: String
    let status: Int
    let durationMilliseconds: String
    let requestID: String
    let facts: RequestRecord.Facts

    init(request: Request, status: Int, elapsed: Duration, requestID: String, facts: RequestRecord.Facts) {
        self.method = request.method.rawValue
        self.path = String(request.uri.path.prefix(512))
        self.status = status
        self.durationMilliseconds = RequestEnvelopeMiddleware.milliseconds(elapsed)
        self.requestID = requestID
        self.facts = facts
    }

    var json: String {
        var members: [(key: String, value: JSONValue)] = [
            ("type", .string("access")),
            ("request_id", .string(requestID)),
            ("method", .string(method)),
            ("path", .string(path)),
        ]
        if let route = facts.route { members.append(("route", .string(route))) }
        members.append(("status", .number(String(status))))
        members.append(("duration_ms", .number(durationMilliseconds)))
        if let userID = facts.userID { members.append(("user_id", .string(userID))) }
        if let upstream = facts.upstream { members.append(("upstream", .string(upstream))) }
        if let endpoint = facts.endpoint { members.append(("endpoint", .string(endpoint))) }
        if let upstreamStatus = facts.upstreamStatus { members.append(("upstream_status", .string(upstreamStatus))) }
        if facts.attempts > 0 { members.append(("attempts", .number(String(facts.attempts)))) }
        if let internalError = facts.internalError { members.append(("error", .string(String(internalError.prefix(1_000))))) }
        return String(decoding: JSONValue.object(members).serialized, as: UTF8.self)
    }

    /// At `info`, or `error` for a 500 (whose cause is in the line).
    func write(to logger: Logger) {
        logger.log(level: status >= 500 && facts.internalError != nil ? .error : .info, "\(json)")
    }
}
