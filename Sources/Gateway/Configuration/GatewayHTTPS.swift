/// HTTPS at the gateway: where its certificate chain and private key are
/// (PEM files). With it the gateway serves TLS only (1.2 or 1.3), HTTP/2 to
/// clients that offer it by ALPN and HTTP/1.1 to the rest; both files are
/// re-read when they change on disk, so a renewed certificate needs no
/// restart.
public struct GatewayHTTPS: Sendable, Equatable {
    public var certificateChainPath: String
    public var privateKeyPath: String

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }
}
