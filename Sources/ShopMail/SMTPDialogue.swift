/// The client side of one SMTP session as a pure state machine: given each
/// reply the server sends, it says what to do next (``Action``). It does no
/// I/O, so every path (STARTTLS, AUTH PLAIN and LOGIN, refusals at each
/// step) is tested without a network; ``SMTPClient`` drives it over NIO.
///
/// The dialogue (RFC 5321, 3207, 4954): greeting 220; `EHLO` 250 (its
/// extension lines say whether STARTTLS and which AUTH mechanisms are
/// offered); with ``Security/startTLS`` `STARTTLS` 220, the TLS handshake,
/// and `EHLO` again; with credentials `AUTH PLAIN` 235 (preferred) or
/// `AUTH LOGIN` 334 / 334 / 235; `MAIL FROM` 250; `RCPT TO` 250 or 251 per
/// recipient; `DATA` 354; the dot-stuffed message 250 (its text is the
/// server's receipt, usually naming its queue id); `QUIT`.
public struct SMTPDialogue: Sendable {
    public enum Security: Sendable, Hashable {
        /// Plain TCP throughout (a local relay).
        case none
        /// Plain TCP, upgraded with STARTTLS before anything else is sent;
        /// a server that does not offer it is an error.
        case startTLS
        /// TLS from the first byte (`smtps`, port 465).
        case implicitTLS
    }

    public struct Credentials: Sendable, Hashable {
        public let user: String
        public let password: String
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    /// Where the dialogue is, for error messages.
    public enum Stage: String, Sendable, Hashable {
        case connect, greeting, ehlo, startTLS = "starttls", auth, mailFrom = "mail from", rcptTo = "rcpt to", data, message, quit
    }

    public enum Action: Sendable, Hashable {
        /// Send this command line (CRLF is added by the sender).
        case send(String)
        /// Start TLS on the connection now, then call ``tlsEstablished()``.
        case startTLS
        /// Send these bytes as they are: the message, dot-stuffed and
        /// terminated (``dataBlock(_:)``).
        case sendMessage([UInt8])
        /// The message was accepted and the session is over; close.
        case finished(receipt: String)
        /// Give up; close the connection (after a best-effort QUIT).
        case fail(SMTPError)
    }

    private enum State: Sendable {
        case greeting
        case ehlo(secured: Bool)
        case startTLS
        case authPlain
        case authLoginUser
        case authLoginPassword
        case authLoginDone
        case mailFrom
        case rcptTo(next: Int)
        case data
        case message
        case quit(receipt: String)
        case done
    }

    private var state: State = .greeting
    private let clientName: String
    private let security: Security
    private let credentials: Credentials?
    private let sender: String
    private let recipients: [String]
    private let message: [UInt8]

    /// - Parameters:
    ///   - clientName: the name this host gives in `EHLO`.
    ///   - sender: the envelope sender (`MAIL FROM`), an ASCII address.
    ///   - recipients: the envelope recipients, at least one.
    ///   - message: the RFC 5322 message, lines ending in CRLF.
    /// - Throws: ``SMTPError/invalidAddress(_:)`` for an address that could
    ///   smuggle commands or is not ASCII.
    public init(
        clientName: String, security: Security, credentials: Credentials?,
        sender: String, recipients: [String], message: [UInt8]
    ) throws(SMTPError) {
        for address in [sender] + recipients where !Self.isSafeAddress(address) {
            throw .invalidAddress(address)
        }
        guard !recipients.isEmpty else { throw .invalidAddress("") }
        self.clientName = Self.isSafeAddress(clientName) ? clientName : "localhost"
        self.security = security
        self.credentials = credentials
        self.sender = sender
        self.recipients = recipients
        self.message = message
    }

    /// Non-empty ASCII without controls, blanks or angle brackets.
    static func isSafeAddress(_ address: String) -> Bool {
        !address.isEmpty && address.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
    }

    /// The stage the next reply answers.
    public var stage: Stage {
        switch state {
        case .greeting: return .greeting
        case .ehlo: return .ehlo
        case .startTLS: return .startTLS
        case .authPlain, .authLoginUser, .authLoginPassword, .authLoginDone: return .auth
        case .mailFrom: return .mailFrom
        case .rcptTo: return .rcptTo
        case .data: return .data
        case .message: return .message
        case .quit, .done: return .quit
        }
    }

    /// What to do after `reply`.
    public mutating func received(_ reply: SMTPReply) -> Action {
        switch state {
        case .greeting:
            guard reply.code == 220 else { return fail(.refused(stage: .greeting, reply: reply)) }
            state = .ehlo(secured: security == .implicitTLS)
            return .send("EHLO \(clientName)")

        case .ehlo(let secured):
            guard reply.code == 250 else { return fail(.refused(stage: .ehlo, reply: reply)) }
            let extensions = Self.extensions(of: reply)
            if security == .startTLS, !secured {
                guard extensions["STARTTLS"] != nil else { return fail(.startTLSUnavailable) }
                state = .startTLS
                return .send("STARTTLS")
            }
            guard let credentials else { return mailFrom() }
            let mechanisms = extensions["AUTH"] ?? []
            if mechanisms.contains("PLAIN") {
                state = .authPlain
                let token = Self.base64(Array("\0\(credentials.user)\0\(credentials.password)".utf8))
                return .send("AUTH PLAIN \(token)")
            }
            if mechanisms.contains("LOGIN") {
                state = .authLoginUser
                return .send("AUTH LOGIN")
            }
            return fail(.authenticationUnavailable(offered: mechanisms))

        case .startTLS:
            guard reply.code == 220 else { return fail(.refused(stage: .startTLS, reply: reply)) }
            return .startTLS

        case .authPlain, .authLoginDone:
            guard reply.code == 235 else { return fail(.refused(stage: .auth, reply: reply)) }
            return mailFrom()

        case .authLoginUser:
            guard reply.code == 334, let credentials else { return fail(.refused(stage: .auth, reply: reply)) }
            state = .authLoginPassword
            return .send(Self.base64(Array(credentials.user.utf8)))

        case .authLoginPassword:
            guard reply.code == 334, let credentials else { return fail(.refused(stage: .auth, reply: reply)) }
            state = .authLoginDone
            return .send(Self.base64(Array(credentials.password.utf8)))

        case .mailFrom:
            guard reply.code == 250 else { return fail(.refused(stage: .mailFrom, reply: reply)) }
            state = .rcptTo(next: 1)
            return .send("RCPT TO:<\(recipients[0])>")

        case .rcptTo(let next):
            guard reply.code == 250 || reply.code == 251 else { return fail(.refused(stage: .rcptTo, reply: reply)) }
            if next < recipients.count {
                state = .rcptTo(next: next + 1)
                return .send("RCPT TO:<\(recipients[next])>")
            }
            state = .data
            return .send("DATA")

        case .data:
            guard reply.code == 354 else { return fail(.refused(stage: .data, reply: reply)) }
            state = .message
            return .sendMessage(Self.dataBlock(message))

        case .message:
            guard reply.code == 250 else { return fail(.refused(stage: .message, reply: reply)) }
            state = .quit(receipt: reply.description)
            return .send("QUIT")

        case .quit(let receipt):
            state = .done
            return .finished(receipt: receipt)

        case .done:
            return .fail(.malformedReply(stage: .quit, detail: "a reply after the session ended"))
        }
    }

    /// The TLS handshake after `STARTTLS` completed: greet again (RFC 3207
    /// says to forget what the server said before).
    public mutating func tlsEstablished() -> Action {
        state = .ehlo(secured: true)
        return .send("EHLO \(clientName)")
    }

    /// The connection closed. After the message was accepted that is the
    /// end of the session (a server may hang up on QUIT without a reply);
    /// before, a failure.
    public mutating func connectionClosed() -> Action {
        if case .quit(let receipt) = state {
            state = .done
            return .finished(receipt: receipt)
        }
        return fail(.connection(stage: stage, detail: "the server closed the connection"))
    }

    private mutating func mailFrom() -> Action {
        state = .mailFrom
        return .send("MAIL FROM:<\(sender)>")
    }

    private mutating func fail(_ error: SMTPError) -> Action {
        state = .done
        return .fail(error)
    }

    /// EHLO's extension lines (all but the first) as keyword to parameters,
    /// upper-cased: `250-AUTH PLAIN LOGIN` gives `AUTH: [PLAIN, LOGIN]`.
    static func extensions(of reply: SMTPReply) -> [String: [String]] {
        var extensions: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            extensions[keyword] = Array(words.dropFirst())
        }
        return extensions
    }

    /// The message as DATA sends it: every line ending in CRLF (a bare LF
    /// or CR becomes CRLF), a line starting with `.` gets a second one
    /// (RFC 5321 §4.5.2), and `CRLF . CRLF` ends it.
    public static func dataBlock(_ message: [UInt8]) -> [UInt8] {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), dot = UInt8(ascii: ".")
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 50 + 5)
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            if byte == cr || byte == lf {
                out.append(cr)
                out.append(lf)
                if byte == cr, index + 1 < message.count, message[index + 1] == lf { index += 1 }
                atLineStart = true
            } else {
                if atLineStart, byte == dot { out.append(dot) }
                out.append(byte)
                atLineStart = false
            }
            index += 1
        }
        if !atLineStart {
            out.append(cr)
            out.append(lf)
        }
        out.append(contentsOf: [dot, cr, lf])
        return out
    }

    static func base64(_ bytes: [UInt8]) -> String {
        MIMEEncoding.base64(bytes)
    }
}
