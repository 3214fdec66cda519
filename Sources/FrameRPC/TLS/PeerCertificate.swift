import NIOSSL
import X509

/// What a verified peer certificate says about who the peer is.
enum PeerCertificate {
    /// The URI subject alternative names of `certificate`, in order; empty
    /// when it has none or does not parse.
    static func uris(of certificate: NIOSSLCertificate) -> [String] {
        guard let der = try? certificate.toDERBytes(),
              let parsed = try? Certificate(derEncoded: der),
              let names = try? parsed.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            if case .uniformResourceIdentifier(let uri) = name { uri } else { nil }
        }
    }

    /// The identity `certificate` names: its first URI SAN of the form
    /// `spiffe://<domain>/service/<name>`, else its first URI SAN; `nil`
    /// when it has no URI SAN.
    static func identity(of certificate: NIOSSLCertificate) -> PeerIdentity? {
        let identities = uris(of: certificate).map(PeerIdentity.init(uri:))
        return identities.first(where: { $0.service != nil }) ?? identities.first
    }
}
