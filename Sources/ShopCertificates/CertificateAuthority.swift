import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority that issues the shop's service certificates: a
/// P-256 key and a self-signed CA certificate, made here (swift-certificates
/// and swift-crypto, no `openssl`).
///
/// `shop up` makes a throwaway one per data folder; `shop certs` makes one
/// for a deployment (its key stays with whoever rotates certificates, never
/// in a Secret that a service mounts); the test fixtures make one per test
/// process.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey

    /// A new CA valid from a minute ago (clock skew) until `notValidAfter`.
    public static func make(
        name: String = "shop development CA",
        notValidBefore: Date = Date().addingTimeInterval(-60),
        notValidAfter: Date = Date().addingTimeInterval(5 * 365 * 86_400)
    ) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName("shop")
            CommonName(name)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notValidBefore,
            notValidAfter: notValidAfter,
            issuer: subject,
            subject: subject,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// The CA in `certificatePEM` with its key in `privateKeyPEM` (as
    /// ``certificatePEM`` and ``privateKeyPEM`` wrote them).
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw CertificateError("the CA key does not belong to the CA certificate")
        }
        self.init(certificate: certificate, privateKey: key)
    }

    init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// The CA's private key (PKCS#8 PEM): keep it out of anything a service mounts.
    public var privateKeyPEM: String { privateKey.pemRepresentation }

    /// A leaf certificate for a client and server (both TLS usages) with a
    /// new P-256 key, naming `uri` (a URI SAN such as
    /// `spiffe://shop.local/service/order`) and `dnsNames`.
    ///
    /// - Parameters:
    ///   - notValidBefore: a minute ago unless told (tests make expired ones).
    public func issue(
        uri: String,
        dnsNames: [String] = [],
        commonName: String? = nil,
        notValidBefore: Date = Date().addingTimeInterval(-60),
        notValidAfter: Date
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName("shop")
            CommonName(commonName ?? uri)
        }
        let names = [GeneralName.uniformResourceIdentifier(uri)] + dnsNames.map { GeneralName.dnsName($0) }
        let issuerKeyIdentifier = try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notValidBefore,
            notValidAfter: notValidAfter,
            issuer: self.certificate.subject,
            subject: subject,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: publicKey)
                if let issuerKeyIdentifier {
                    AuthorityKeyIdentifier(keyIdentifier: issuerKeyIdentifier)
                }
            },
            issuerPrivateKey: Certificate.PrivateKey(privateKey)
        )
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }
}

/// A certificate and its private key.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey

    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// PKCS#8 PEM.
    public var privateKeyPEM: String { privateKey.pemRepresentation }

    /// A certificate that signs itself, naming `uri`: what someone who
    /// knows the naming scheme but holds no CA key can make (tests).
    public static func selfSigned(uri: String, notValidAfter: Date = Date().addingTimeInterval(86_400)) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(uri) }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60),
            notValidAfter: notValidAfter,
            issuer: subject,
            subject: subject,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames([.uniformResourceIdentifier(uri)])
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }
}

/// Certificate material that cannot be made or read.
public struct CertificateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
