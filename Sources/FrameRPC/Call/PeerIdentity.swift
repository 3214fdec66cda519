/// Who is at the other end of a connection, as its verified TLS certificate
/// says: the seam between the transport (which verifies) and the policy
/// (which decides).
///
/// A peer's identity is a URI subject alternative name of its certificate,
/// `spiffe://<trust domain>/service/<name>`. Only a certificate chain that
/// the server's trust roots verified yields one; a plaintext connection has
/// none (``ServerContext/peer`` is `nil`), and nothing a peer sends on the
/// wire (metadata included) can make one.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The URI SAN, e.g. `spiffe://shop.local/service/order`.
    public let uri: String
    /// The trust domain, `shop.local` above; `nil` when `uri` is not a
    /// `spiffe://` URI.
    public let trustDomain: String?
    /// The service name, `order` above: the last segment of a
    /// `spiffe://<domain>/service/<name>` URI, else `nil`.
    public let service: String?

    /// Parses `uri`; one that is not of the `spiffe://<domain>/service/<name>`
    /// form keeps its text with no service name, so no policy can match it.
    public init(uri: String) {
        self.uri = uri
        let prefix = "spiffe://"
        guard uri.hasPrefix(prefix) else {
            trustDomain = nil
            service = nil
            return
        }
        let rest = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        if rest.count == 3, !rest[0].isEmpty, rest[1] == "service", !rest[2].isEmpty {
            trustDomain = String(rest[0])
            service = String(rest[2])
        } else {
            trustDomain = rest.first.flatMap { $0.isEmpty ? nil : String($0) }
            service = nil
        }
    }

    /// The URI for service `name` in `trustDomain`.
    public static func serviceURI(_ name: String, trustDomain: String = "shop.local") -> String {
        "spiffe://\(trustDomain)/service/\(name)"
    }

    public var description: String { uri }
}
