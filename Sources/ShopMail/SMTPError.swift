/// Why sending one message over SMTP did not work.
///
/// ``isPermanent`` separates what retrying cannot fix (the server refused
/// with a 5xx reply) from what it may (4xx replies, timeouts, a server
/// that is down or hung up).
public enum SMTPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server answered `reply` at `stage` where another code was due.
    case refused(stage: SMTPDialogue.Stage, reply: SMTPReply)
    /// No reply within the step's time.
    case timedOut(stage: SMTPDialogue.Stage)
    /// The connection could not be made, or closed before the end.
    case connection(stage: SMTPDialogue.Stage, detail: String)
    /// The server sent something that is not an SMTP reply.
    case malformedReply(stage: SMTPDialogue.Stage, detail: String)
    /// STARTTLS is required (credentials are never sent in the clear) but
    /// the server does not offer it.
    case startTLSUnavailable
    /// Credentials are configured but the server offers neither AUTH PLAIN
    /// nor AUTH LOGIN.
    case authenticationUnavailable(offered: [String])
    /// An address or header would let text smuggle SMTP commands (CR, LF,
    /// `<`, `>`), or is not ASCII.
    case invalidAddress(String)

    /// Whether retrying cannot help: a 5xx reply, or a message that can
    /// never be sent as it is.
    public var isPermanent: Bool {
        switch self {
        case .refused(_, let reply): return reply.isPermanent
        case .invalidAddress: return true
        case .timedOut, .connection, .malformedReply, .startTLSUnavailable, .authenticationUnavailable: return false
        }
    }

    public var description: String {
        switch self {
        case .refused(let stage, let reply): return "SMTP \(stage.rawValue): \(reply)"
        case .timedOut(let stage): return "SMTP \(stage.rawValue): no reply in time"
        case .connection(let stage, let detail): return "SMTP \(stage.rawValue): \(detail)"
        case .malformedReply(let stage, let detail): return "SMTP \(stage.rawValue): \(detail)"
        case .startTLSUnavailable: return "SMTP: the server does not offer STARTTLS, which credentials require"
        case .authenticationUnavailable(let offered): return "SMTP: the server offers neither AUTH PLAIN nor LOGIN (offered: \(offered.joined(separator: " ")))"
        case .invalidAddress(let address): return "SMTP: unusable address '\(address.prefix(80))'"
        }
    }
}
