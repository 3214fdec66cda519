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
///
/// It is written as the message `access` with these members as metadata,
/// so the JSON log handler puts them beside `request_id` and `trace_id`
/// as fields of the line rather than as a string inside it.
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
        String(decoding: JSONValue.object(members).serialized, as: UTF8.self)
    }

    /// The members of the line, in order, without `type`.
    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for (key, value) in members where key != "type" {
            switch value {
            case .string(let text), .number(let text): metadata[key] = .string(text)
            default: break
            }
        }
        return metadata
    }

    private var members: [(key: String, value: JSONValue)] {
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
        return members
    }

    /// At `info`, or `error` for a 500 (whose cause is in the line).
    func write(to logger: Logger) {
        logger.log(level: status >= 500 && facts.internalError != nil ? .error : .info, "access", metadata: metadata)
    }
}
