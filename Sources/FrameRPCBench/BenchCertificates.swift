import Foundation
import FrameRPC
import ShopCertificates

/// A throwaway CA with a server and a client certificate in a temporary
/// folder, for the mTLS rows: the parent makes it, the server child reads it.
struct BenchCertificates: Sendable {
    let directory: String

    private var files: ServiceCertificates { ServiceCertificates(directory: directory) }

    static func make() throws -> BenchCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("framerpc-bench-tls-\(getpid())").path
        try ServiceCertificates(directory: directory).create(services: ["bench-server", "bench-client"], validity: 86_400)
        return BenchCertificates(directory: directory)
    }

    var server: RPCTLSConfiguration { configuration(for: "bench-server") }

    /// The client, requiring the server's identity (as shop's clients do).
    var client: RPCTLSConfiguration {
        configuration(for: "bench-client").requiringServerIdentity(files.identity(of: "bench-server"))
    }

    private func configuration(for name: String) -> RPCTLSConfiguration {
        .files(certificateChain: files.certificatePath(for: name), privateKey: files.keyPath(for: name), trustRoots: files.caCertificatePath)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
