import FrameRPC
import Foundation
import ShopCertificates
import SwiftProtobuf
import Testing
import X509

/// Certificates replaced on disk under a running server, as cert-manager
/// or a Secret update does.
@Suite("Certificate rotation")
struct RotationTests {
    let material = TLSMaterial.shared

    /// A folder with a server's certificate, key and CA as files.
    struct Files {
        let directory: String
        var certificate: String { directory + "/tls.crt" }
        var key: String { directory + "/tls.key" }
        var ca: String { directory + "/ca.crt" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("rotation-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        /// Writes each file beside its place and renames it in, as an
        /// atomic update does.
        func install(_ issued: IssuedCertificate, caPEM: String) throws {
            try write(try issued.certificatePEM, to: certificate)
            try write(issued.privateKeyPEM, to: key)
            try write(caPEM, to: ca)
        }

        func write(_ text: String, to path: String) throws {
            let temporary = path + ".new"
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw CertificateError("rename failed") }
        }

        var configuration: RPCTLSConfiguration {
            .files(certificateChain: certificate, privateKey: key, trustRoots: ca)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test("new files on disk: new connections get the new certificate, a call started before finishes on the old connection")
    func replaceUnderRunningServer() async throws {
        let files = try Files()
        defer { files.remove() }
        let first = try material.leaf("user")
        try files.install(first, caPEM: material.caPEM)
        let probe = HandlerProbe()
        let server = RPCServer(
            configuration: RPCServer.Configuration(tls: files.configuration),
            services: [FixtureService(probe: probe)]
        )
        try await withRunningServer(server) { port in
            let before = try await RawTLSClient.probe(port: port, certificate: material.leaf("gateway"))
            #expect(before.serverCertificate?.serialNumber == first.certificate.serialNumber)

            let caller = RPCClient(host: "127.0.0.1", port: port, configuration: RPCClient.Configuration(tls: try material.configuration(as: "gateway")))
            defer { caller.shutdown() }
            async let slow = caller.unary(method: FixtureService.slow, request: Google_Protobuf_Int64Value(1_500), response: Google_Protobuf_Int64Value.self)
            #expect(await probe.wait(for: "slow started"))

            let second = try material.leaf("user")
            try files.install(second, caPEM: material.caPEM)
            let after = try await RawTLSClient.probe(port: port, certificate: material.leaf("gateway"))
            #expect(after.serverCertificate?.serialNumber == second.certificate.serialNumber)

            #expect(try await slow.value == 1_500)
            // The old connection is still open and usable.
            #expect(try await caller.echo("same connection") == "same connection")
        }
    }

    @Test("a broken new file is logged as a warning and the previous certificate stays in use")
    func brokenFileKeepsOld() async throws {
        let files = try Files()
        defer { files.remove() }
        let good = try material.leaf("user")
        try files.install(good, caPEM: material.caPEM)
        let logs = LogCapture()
        let server = RPCServer(
            configuration: RPCServer.Configuration(tls: files.configuration),
            services: [FixtureService()],
            logger: logs.logger
        )
        try await withRunningServer(server) { port in
            try files.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", to: files.certificate)
            let outcome = try await RawTLSClient.probe(port: port, certificate: material.leaf("gateway"))
            #expect(outcome.serverCertificate?.serialNumber == good.certificate.serialNumber)
            let warnings = logs.messages(atLeast: .warning)
            #expect(warnings.contains { $0.contains("keeping the previous certificate") }, "\(warnings)")
            #expect(logs.messages(atLeast: .error).isEmpty)

            let client = RPCClient(host: "127.0.0.1", port: port, configuration: RPCClient.Configuration(tls: try material.configuration(as: "gateway")))
            defer { client.shutdown() }
            #expect(try await client.echo("served") == "served")
        }
    }

    @Test("a client's open connection keeps the identity it started with after its files change; a client made afterwards presents the new one")
    func clientRotation() async throws {
        let files = try Files()
        defer { files.remove() }
        try files.install(try material.leaf("order"), caPEM: material.caPEM)
        let server = RPCServer(
            configuration: RPCServer.Configuration(tls: try material.configuration(as: "user")),
            services: [PeerProbeService()]
        )
        try await withRunningServer(server) { port in
            let client = RPCClient(host: "127.0.0.1", port: port, configuration: RPCClient.Configuration(tls: files.configuration))
            defer { client.shutdown() }
            #expect(try await client.whoAmI() == "spiffe://shop.local/service/order|order")
            // The same process, now holding the notification identity:
            // only a new connection shows it.
            try files.install(try material.leaf("notification"), caPEM: material.caPEM)
            #expect(try await client.whoAmI() == "spiffe://shop.local/service/order|order")
            let fresh = RPCClient(host: "127.0.0.1", port: port, configuration: RPCClient.Configuration(tls: files.configuration))
            defer { fresh.shutdown() }
            #expect(try await fresh.whoAmI() == "spiffe://shop.local/service/notification|notification")
        }
    }
}
