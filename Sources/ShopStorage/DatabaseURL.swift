import Foundation

/// `postgres://user:password@host:port/database?sslmode=...`, parsed.
///
/// `sslmode`: `disable`, `prefer` (the default, as libpq: TLS when the
/// server offers it) or `require`. The password is never part of
/// ``description``, so the URL can be logged.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public let host: String
    public let port: Int
    public let username: String
    public let password: String?
    public let database: String
    public let tls: TLSMode

    /// - Throws: ``StorageError`` (malformed) naming what is wrong, never
    ///   echoing the password.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw StorageError(.malformed, "the database URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StorageError(.malformed, "the database URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StorageError(.malformed, "the database URL names no user")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StorageError(.malformed, "the database URL names no database (…/DATABASE at its end)")
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let tls = TLSMode(rawValue: mode) else {
            throw StorageError(.malformed, "the database URL's sslmode must be disable, prefer or require, not \(mode.prefix(20))")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        self.tls = tls
    }

    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }
}
