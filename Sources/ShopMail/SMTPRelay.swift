import Foundation

/// Where and how to send mail, from `SHOP_SMTP_URL`:
///
/// - `smtp://user:password@host:587`: STARTTLS, then AUTH (PLAIN, else
///   LOGIN); credentials are never sent before TLS.
/// - `smtps://user:password@host:465`: TLS from the first byte, then AUTH.
/// - `smtp://host:25`: no TLS, no AUTH: a relay on the same host or network.
///
/// The user and password are percent-decoded (`%40` for `@`). Default
/// ports: 587 for `smtp` with a user, 25 without, 465 for `smtps`.
public struct SMTPRelay: Sendable, Hashable {
    public let host: String
    public let port: Int
    public let security: SMTPDialogue.Security
    public let credentials: SMTPDialogue.Credentials?

    public struct InvalidURL: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// - Throws: ``InvalidURL`` saying what is wrong; never echoing the
    ///   password.
    public init(url text: String) throws(InvalidURL) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw InvalidURL(description: "SHOP_SMTP_URL must look like smtp://user:password@host:587, smtps://user:password@host:465 or smtp://host:25")
        }
        guard scheme == "smtp" || scheme == "smtps" else {
            throw InvalidURL(description: "SHOP_SMTP_URL must start with smtp:// or smtps://, not \(scheme.prefix(16))://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw InvalidURL(description: "SHOP_SMTP_URL names no host")
        }
        let user = components.percentEncodedUser.flatMap { $0.removingPercentEncoding }
        let password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        if let user, !user.isEmpty {
            credentials = SMTPDialogue.Credentials(user: user, password: password ?? "")
        } else {
            credentials = nil
        }
        if scheme == "smtps" {
            security = .implicitTLS
        } else {
            security = credentials == nil ? .none : .startTLS
        }
        let defaultPort = scheme == "smtps" ? 465 : (credentials == nil ? 25 : 587)
        let port = components.port ?? defaultPort
        guard (1...65_535).contains(port) else {
            throw InvalidURL(description: "SHOP_SMTP_URL has port \(port), not 1...65535")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = port
    }
}
