/// Which verified peers may call a method: the service names their TLS
/// certificates carry (``PeerIdentity/service``).
///
/// Generated registrations pass one per method when the `.proto` declares
/// a call policy (`(shop.api.policy)` / `(shop.api.default_policy)`); the
/// router checks it before the request payload is decoded and before the
/// handler or anything it calls runs. A method registered without a policy
/// is open to any peer.
///
/// Only the transport can make a ``PeerIdentity`` (from a certificate chain
/// the server's trust roots verified), so nothing a peer sends, metadata
/// included, can pass a policy. A peer without a verified identity (a
/// plaintext connection) passes none.
public struct CallerPolicy: Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The service names allowed, sorted.
    public let allowedServices: [String]

    /// A policy allowing the services named `services` (e.g. `["order"]`).
    public init(allowing services: [String]) {
        allowedServices = Array(Set(services)).sorted()
    }

    public init(arrayLiteral elements: String...) {
        self.init(allowing: elements)
    }

    /// Whether `peer` is a verified service this policy names.
    public func allows(_ peer: PeerIdentity?) -> Bool {
        guard let service = peer?.service else { return false }
        return allowedServices.contains(service)
    }

    /// Throws PERMISSION_DENIED unless the peer of `context` is allowed.
    ///
    /// The message names the method and nothing else: neither the peer's
    /// identity nor who would have been allowed, so a probing peer learns
    /// only that it may not call it.
    public func check(_ context: ServerContext) throws {
        guard allows(context.peer) else {
            throw RPCError(code: .permissionDenied, message: "the caller may not call \(context.method)")
        }
    }

    public var description: String { allowedServices.joined(separator: ", ") }
}
