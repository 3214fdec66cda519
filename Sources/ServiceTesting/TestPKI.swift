import FrameRPC
import Foundation
import ShopCertificates
import Synchronization

/// The test process's certificate authority and one certificate per shop
/// process, made once (on first use) in a temporary folder: what every
/// fixture starts services with, so the suites run over mutual TLS as
/// `shop up` and deployments do.
///
/// ```swift
/// let server = TestPKI.shared.server(as: "user")               // a user service's TLS
/// let client = TestPKI.shared.client(as: "order", calling: "user") // calls as the order service
/// ```
///
/// Any name gets a certificate (`spiffe://shop.local/service/<name>`) on
/// first use, so a test can call as a service the policy does not know.
public final class TestPKI: Sendable {
    /// The one per test process.
    public static let shared: TestPKI = {
        do {
            return try TestPKI()
        } catch {
            fatalError("cannot make the test certificates: \(error)")
        }
    }()

    /// The folder: `ca.pem` and `<name>.pem`/`<name>.key` per identity.
    public let certificates: ServiceCertificates
    private let authority: CertificateAuthority
    private let issued = Mutex<Set<String>>([])

    /// A new CA and the six processes' certificates (valid a day) in a new
    /// temporary folder; ``shared`` is the one to use.
    public init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shop-test-pki-\(UUID().uuidString.prefix(8))").path
        certificates = ServiceCertificates(directory: directory)
        try certificates.create(validity: 86_400)
        authority = try CertificateAuthority(
            certificatePEM: String(contentsOfFile: certificates.caCertificatePath, encoding: .utf8),
            privateKeyPEM: String(contentsOfFile: certificates.caKeyPath, encoding: .utf8)
        )
        issued.withLock { $0 = Set(ServiceCertificates.services) }
    }

    /// `spiffe://shop.local/service/<name>`.
    public func identity(of name: String) -> String {
        certificates.identity(of: name)
    }

    /// TLS for a server (or any process) that is `name`: its certificate
    /// and key, the test CA as trust root.
    public func server(as name: String) -> RPCTLSConfiguration {
        ensure(name)
        return .files(
            certificateChain: certificates.certificatePath(for: name),
            privateKey: certificates.keyPath(for: name),
            trustRoots: certificates.caCertificatePath
        )
    }

    /// TLS for a client that calls as `name`; with `service`, the server
    /// must prove it is that service.
    public func client(as name: String, calling service: String? = nil) -> RPCTLSConfiguration {
        server(as: name).requiringServerIdentity(service.map(identity(of:)))
    }

    /// `SHOP_TLS_CERT`, `SHOP_TLS_KEY` and `SHOP_TLS_CA` for a `shop serve`
    /// or `shop gateway` process that is `name`.
    public func settings(for name: String) -> [String: String] {
        ensure(name)
        return [
            "SHOP_TLS_CERT": certificates.certificatePath(for: name),
            "SHOP_TLS_KEY": certificates.keyPath(for: name),
            "SHOP_TLS_CA": certificates.caCertificatePath,
        ]
    }

    /// Issues `name`'s certificate the first time it is asked for.
    private func ensure(_ name: String) {
        let isNew = issued.withLock { $0.insert(name).inserted }
        guard isNew else { return }
        do {
            let leaf = try authority.issue(uri: identity(of: name), dnsNames: [name, "localhost"], commonName: name, notValidAfter: Date().addingTimeInterval(86_400))
            try Data(leaf.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificates.certificatePath(for: name)), options: .atomic)
            try Data(leaf.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: certificates.keyPath(for: name)), options: .atomic)
        } catch {
            fatalError("cannot issue a test certificate for \(name): \(error)")
        }
    }
}

extension RPCClient {
    /// A client for the test service `service` on `127.0.0.1:port`, over
    /// mutual TLS as `caller` (the gateway unless told: it makes most
    /// calls in the real system), accepting only a server that is `service`.
    public static func testing(port: Int, calling service: String, as caller: String = "gateway", host: String = "127.0.0.1") -> RPCClient {
        RPCClient(host: host, port: port, configuration: RPCClient.Configuration(tls: TestPKI.shared.client(as: caller, calling: service)))
    }
}
