import ArgumentParser
import ServiceSupport

/// `--tls-cert`, `--tls-key`, `--tls-ca`: the flags over `SHOP_TLS_CERT`,
/// `SHOP_TLS_KEY` and `SHOP_TLS_CA` (``TLSSettings``), shared by every
/// command that speaks FrameRPC.
struct TLSOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: "This process's certificate chain, PEM (SHOP_TLS_CERT).")
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: "Its private key, PEM (SHOP_TLS_KEY).")
    var privateKey: String?

    @Option(name: .customLong("tls-ca"), help: "The CA certificates peers must chain to, PEM (SHOP_TLS_CA).")
    var trustRoots: String?

    /// `environment` with the flags given written over their variables.
    func applied(to environment: [String: String]) -> [String: String] {
        var environment = environment
        if let certificate { environment[TLSSettings.certificate] = certificate }
        if let privateKey { environment[TLSSettings.privateKey] = privateKey }
        if let trustRoots { environment[TLSSettings.trustRoots] = trustRoots }
        return environment
    }
}
