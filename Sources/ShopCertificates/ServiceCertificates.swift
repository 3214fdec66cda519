import Foundation
import X509

/// The shop's certificates in one folder, as `shop certs` writes them and
/// `shop up` and the test fixtures use them:
///
/// ```
/// DIR/ca.pem            the CA certificate: every service's trust root
/// DIR/ca.key            the CA's private key: only for issuing (never mounted)
/// DIR/<service>.pem     a service's certificate, URI SAN spiffe://<domain>/service/<service>
/// DIR/<service>.key     its private key (mode 0600)
/// ```
///
/// Leaf certificates also carry the DNS SANs `<service>` and `localhost`
/// (for tools that insist on one); FrameRPC itself checks only the URI.
public struct ServiceCertificates: Sendable {
    /// The six processes of the shop, each with a certificate.
    public static let services = ["gateway", "user", "product", "inventory", "order", "notification"]
    public static let defaultTrustDomain = "shop.local"

    public let directory: String
    public let trustDomain: String

    public init(directory: String, trustDomain: String = Self.defaultTrustDomain) {
        self.directory = directory
        self.trustDomain = trustDomain
    }

    public var caCertificatePath: String { path("ca.pem") }
    public var caKeyPath: String { path("ca.key") }
    public func certificatePath(for service: String) -> String { path("\(service).pem") }
    public func keyPath(for service: String) -> String { path("\(service).key") }

    /// `spiffe://<trust domain>/service/<name>`.
    public func identity(of service: String) -> String {
        "spiffe://\(trustDomain)/service/\(service)"
    }

    /// Writes a certificate and key for each of `services`, issued by the
    /// CA in the folder when there is one (`ca.pem` and `ca.key`: a rerun
    /// renews the leaves and keeps the trust root), else by a new CA.
    ///
    /// - Parameter validity: how long the leaf certificates are valid.
    /// - Returns: whether a new CA was made.
    @discardableResult
    public func create(services: [String] = Self.services, validity: TimeInterval = 90 * 86_400) throws -> Bool {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var madeCA = false
        let authority: CertificateAuthority
        if let existing = try existingAuthority() {
            authority = existing
        } else {
            authority = try CertificateAuthority.make(name: "shop CA (\(trustDomain))")
            try write(authority.certificatePEM, to: caCertificatePath, secret: false)
            try write(authority.privateKeyPEM, to: caKeyPath, secret: true)
            madeCA = true
        }
        for service in services {
            let leaf = try authority.issue(
                uri: identity(of: service),
                dnsNames: [service, "localhost"],
                commonName: service,
                notValidAfter: Date().addingTimeInterval(validity)
            )
            try write(leaf.certificatePEM, to: certificatePath(for: service), secret: false)
            try write(leaf.privateKeyPEM, to: keyPath(for: service), secret: true)
        }
        return madeCA
    }

    /// Why the folder's certificates cannot be reused for `services`, or
    /// `nil` when every one is there, issued by the folder's CA, names its
    /// service and stays valid for at least `margin` more.
    public func reuseProblem(services: [String] = Self.services, margin: TimeInterval = 86_400) -> String? {
        let authority: CertificateAuthority
        do {
            guard let existing = try existingAuthority() else { return "no CA in \(directory)" }
            authority = existing
        } catch {
            return "the CA in \(directory) cannot be read: \(error)"
        }
        let horizon = Date().addingTimeInterval(margin)
        guard authority.certificate.notValidAfter > horizon else { return "the CA expires soon" }
        for service in services {
            guard let pem = try? String(contentsOfFile: certificatePath(for: service), encoding: .utf8),
                  let certificate = try? Certificate(pemEncoded: pem),
                  FileManager.default.fileExists(atPath: keyPath(for: service)) else {
                return "no usable certificate and key for \(service)"
            }
            guard certificate.issuer == authority.certificate.subject else { return "\(service)'s certificate is not from this CA" }
            guard certificate.notValidAfter > horizon else { return "\(service)'s certificate expires soon" }
            let names = (try? certificate.extensions.subjectAlternativeNames).map { Array($0) } ?? []
            guard names.contains(.uniformResourceIdentifier(identity(of: service))) else {
                return "\(service)'s certificate does not name \(identity(of: service))"
            }
        }
        return nil
    }

    /// The folder's CA, when both its files are there.
    private func existingAuthority() throws -> CertificateAuthority? {
        let manager = FileManager.default
        guard manager.fileExists(atPath: caCertificatePath), manager.fileExists(atPath: caKeyPath) else { return nil }
        return try CertificateAuthority(
            certificatePEM: String(contentsOfFile: caCertificatePath, encoding: .utf8),
            privateKeyPEM: String(contentsOfFile: caKeyPath, encoding: .utf8)
        )
    }

    private func path(_ name: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name).path
    }

    /// Writes to a temporary file and renames it into place, so a server
    /// re-reading the folder never sees half a file; keys are 0600.
    private func write(_ text: String, to path: String, secret: Bool) throws {
        let temporary = path + ".tmp-\(UUID().uuidString.prefix(8))"
        let created = FileManager.default.createFile(
            atPath: temporary,
            contents: Data(text.utf8),
            attributes: [.posixPermissions: secret ? 0o600 : 0o644]
        )
        guard created else { throw CertificateError("cannot write \(path)") }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CertificateError("cannot move \(temporary) to \(path)")
        }
    }
}
