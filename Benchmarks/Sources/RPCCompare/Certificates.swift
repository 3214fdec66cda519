import Foundation
import ShopCertificates

/// A throwaway CA with a server and a client certificate (URI SANs, no DNS
/// names, as shop's services have) in a temporary folder, for the mTLS
/// rows: the parent makes it, both children read it. FrameRPC and gRPC use
/// the same files.
struct BenchCertificates: Sendable {
    static let serverName = "bench-server"
    static let clientName = "bench-client"

    let directory: String

    var files: ServiceCertificates { ServiceCertificates(directory: directory) }

    static func make() throws -> BenchCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-compare-tls-\(getpid())").path
        _ = try ServiceCertificates(directory: directory).create(services: [serverName, clientName], validity: 86_400)
        return BenchCertificates(directory: directory)
    }

    var caPath: String { files.caCertificatePath }
    func certificatePath(_ name: String) -> String { files.certificatePath(for: name) }
    func keyPath(_ name: String) -> String { files.keyPath(for: name) }
    var serverIdentity: String { files.identity(of: Self.serverName) }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
