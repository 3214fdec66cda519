/// Mutual TLS for a FrameRPC server or client: this side's certificate chain
/// and private key, and the roots that the other side's chain must verify
/// against.
///
/// With a configuration, every connection is TLS 1.3 and nothing else: no
/// older version, no plaintext fallback. A server requires a client
/// certificate and verifies it; a peer without a valid one fails the
/// handshake and never reaches the frame decoder. A client verifies the
/// server's chain and, with ``serverIdentity``, that the server is the
/// service it meant to call.
///
/// Identities are URI subject alternative names
/// (`spiffe://<trust domain>/service/<name>`, see ``PeerIdentity``), not
/// DNS names: a service keeps its identity whatever address it is reached
/// at (a pod IP, a load-balanced DNS name, 127.0.0.1), so hostname
/// verification is off and the URI SAN is checked instead.
///
/// Material given as ``Source/file(_:)`` is re-read when a file changes on
/// disk (checked on each new connection): new connections use the new
/// certificate, connections already open keep theirs. A file that no longer
/// parses is logged and the last good material stays in use.
public struct RPCTLSConfiguration: Sendable, Hashable {
    /// Where PEM material comes from.
    public enum Source: Sendable, Hashable {
        /// A PEM file, re-read when it changes.
        case file(String)
        /// PEM text in memory.
        case pem(String)
    }

    /// This side's certificate, then any intermediates (PEM).
    public var certificateChain: Source
    /// This side's private key (PEM, PKCS#8 or SEC1).
    public var privateKey: Source
    /// The CA certificates the peer's chain must verify against (PEM).
    public var trustRoots: Source
    /// For a client: the URI SAN the server's certificate must carry, e.g.
    /// `spiffe://shop.local/service/user`; `nil` accepts any server whose
    /// chain the trust roots verify. A server ignores it.
    public var serverIdentity: String?

    public init(certificateChain: Source, privateKey: Source, trustRoots: Source, serverIdentity: String? = nil) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustRoots = trustRoots
        self.serverIdentity = serverIdentity
    }

    /// Material from three PEM files (re-read when they change).
    public static func files(certificateChain: String, privateKey: String, trustRoots: String, serverIdentity: String? = nil) -> Self {
        Self(certificateChain: .file(certificateChain), privateKey: .file(privateKey), trustRoots: .file(trustRoots), serverIdentity: serverIdentity)
    }

    /// The same material, for a client that must reach the server with
    /// identity `uri` (`nil`: any verified server).
    public func requiringServerIdentity(_ uri: String?) -> Self {
        var copy = self
        copy.serverIdentity = uri
        return copy
    }
}
