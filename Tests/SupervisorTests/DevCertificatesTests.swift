import FrameRPC
import Foundation
import ServiceTesting
import ShopCertificates
import Supervisor
import Testing
import X509

/// The certificates `shop up` makes and hands its children.
@Suite("Development certificates")
struct DevCertificatesTests {
    @Test("each child gets its own certificate and key and the CA; the supervisor probes with the child's own identity")
    func planHandsOutCertificates() throws {
        let certificates = ServiceCertificates(directory: "/tmp/shop-data/certs")
        let plan = SystemPlan(executable: "/bin/shop", dataDirectory: "/tmp/shop-data", environment: [:], certificates: certificates)
        for child in plan.children {
            #expect(child.environment["SHOP_TLS_CERT"] == "/tmp/shop-data/certs/\(child.name).pem", "\(child.name)")
            #expect(child.environment["SHOP_TLS_KEY"] == "/tmp/shop-data/certs/\(child.name).key", "\(child.name)")
            #expect(child.environment["SHOP_TLS_CA"] == "/tmp/shop-data/certs/ca.pem", "\(child.name)")
            if case .healthRPC = child.readiness {
                #expect(child.probeTLS?.serverIdentity == "spiffe://shop.local/service/\(child.name)")
                #expect(child.probeTLS?.certificateChain == .file("/tmp/shop-data/certs/\(child.name).pem"))
            }
        }
    }

    @Test("a folder of fresh certificates is reused; a missing, expiring or foreign one is named as the reason to make new ones")
    func reuseRules() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let certificates = ServiceCertificates(directory: folder.path)
        #expect(certificates.reuseProblem() == "no CA in \(folder.path)")
        try certificates.create(validity: 30 * 86_400)
        #expect(certificates.reuseProblem() == nil)
        #expect(certificates.reuseProblem(margin: 31 * 86_400) == "gateway's certificate expires soon")

        // One certificate from another CA.
        let stranger = try CertificateAuthority.make(name: "elsewhere")
            .issue(uri: certificates.identity(of: "order"), notValidAfter: Date().addingTimeInterval(86_400 * 30))
        try Data(try stranger.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificates.certificatePath(for: "order")))
        #expect(certificates.reuseProblem() == "order's certificate is not from this CA")

        try FileManager.default.removeItem(atPath: certificates.keyPath(for: "user"))
        #expect(certificates.reuseProblem() == "no usable certificate and key for user")
    }

    @Test("an issued certificate names its service as the URI SAN, also as a DNS name, for both TLS usages")
    func issuedCertificateShape() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let certificates = ServiceCertificates(directory: folder.path)
        try certificates.create(services: ["inventory"], validity: 86_400)
        let pem = try String(contentsOfFile: certificates.certificatePath(for: "inventory"), encoding: .utf8)
        let certificate = try Certificate(pemEncoded: pem)
        let names = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.uniformResourceIdentifier("spiffe://shop.local/service/inventory")))
        #expect(names.contains(.dnsName("inventory")))
        let usages = try #require(try certificate.extensions.extendedKeyUsage)
        #expect(usages.contains(.serverAuth) && usages.contains(.clientAuth))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
    }
}
