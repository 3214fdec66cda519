import Foundation
@testable import Gateway
import ServiceTesting
import ShopCertificates
import Supervisor
import Testing

/// HTTPS at the gateway, checked with a real TLS client (curl): HTTP/2 by
/// ALPN and HTTP/1.1 both served, the certificate the client sees is the
/// one on disk (an expired one or one from another CA is refused by the
/// client), and a renewed certificate is picked up without a restart.
@Suite("HTTPS at the gateway", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "no curl installed"))
struct HTTPSTests {
    /// A CA and the gateway's certificate from it, written to a folder.
    struct EdgeFiles {
        let folder: TemporaryDirectory
        let authority: CertificateAuthority
        var certificate: String { folder.path + "/gateway.pem" }
        var key: String { folder.path + "/gateway-key.pem" }
        var caFile: String { folder.path + "/ca.pem" }

        init() throws {
            folder = try TemporaryDirectory()
            authority = try CertificateAuthority.make(name: "edge test CA")
            try authority.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
            try issue()
        }

        /// Writes a new gateway certificate (atomically, as a renewal would).
        func issue(notValidAfter: Date = Date().addingTimeInterval(3_600), notValidBefore: Date = Date().addingTimeInterval(-60)) throws {
            let issued = try authority.issue(
                uri: "spiffe://shop.local/service/gateway",
                dnsNames: ["localhost"],
                notValidBefore: notValidBefore,
                notValidAfter: notValidAfter
            )
            try issued.privateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
            try issued.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        }
    }

    /// Runs curl; its exit code and what it printed, ending with a line
    /// `@@done <HTTP version> <status>` that curl writes last (waited for,
    /// since the output is read on another thread than the exit).
    static func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let output = ProcessOutput()
        let process = try ChildProcess.spawn(
            executable: "/usr/bin/curl",
            arguments: ["--silent", "--show-error", "--max-time", "20", "--write-out", "\n@@done %{http_version} %{http_code}\n"] + arguments,
            environment: [:],
            onLine: output.append
        )
        let termination = await process.termination()
        _ = await output.waitFor(timeout: .seconds(5)) { $0.hasPrefix("@@done") }
        guard case .exited(let code) = termination else { return (-1, output.lines.joined(separator: "\n")) }
        return (code, output.lines.joined(separator: "\n"))
    }

    static func url(_ port: Int, _ path: String = "/") -> String { "https://localhost:\(port)\(path)" }
    static func resolve(_ port: Int) -> [String] { ["--resolve", "localhost:\(port):127.0.0.1"] }

    static func withHTTPSGateway(_ files: EdgeFiles, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let configuration = GatewayHarness.configuration(upstreams: try GatewayHarness.deadUpstreams()) {
            $0.https = GatewayHTTPS(certificateChainPath: files.certificate, privateKeyPath: files.key)
        }
        let (application, _) = try makeGateway(configuration: configuration)
        try await application.test(.live) { client in
            try await body(client.port ?? 0)
        }
    }

    @Test func httpsServesHTTP2ByALPNAndHTTP11ToClientsThatAskForIt() async throws {
        let files = try EdgeFiles()
        try await Self.withHTTPSGateway(files) { port in
            let h2 = try await Self.curl(Self.resolve(port) + ["--cacert", files.caFile, "--http2", Self.url(port)])
            #expect(h2.status == 0, "\(h2.output)")
            #expect(h2.output.hasSuffix("@@done 2 200"), "\(h2.output)")
            #expect(h2.output.contains("API Gateway is running"))

            let h1 = try await Self.curl(Self.resolve(port) + ["--cacert", files.caFile, "--http1.1", Self.url(port)])
            #expect(h1.status == 0, "\(h1.output)")
            #expect(h1.output.hasSuffix("@@done 1.1 200"), "\(h1.output)")
            #expect(h1.output.contains("API Gateway is running"))
        }
    }

    @Test func responsesOverHTTPSCarryStrictTransportSecurity() async throws {
        let files = try EdgeFiles()
        try await Self.withHTTPSGateway(files) { port in
            let reply = try await Self.curl(Self.resolve(port) + ["--cacert", files.caFile, "--include", Self.url(port, "/api/nothing")])
            #expect(reply.status == 0, "\(reply.output)")
            #expect(reply.output.lowercased().contains("strict-transport-security: max-age=31536000; includesubdomains"), "\(reply.output)")
            #expect(reply.output.lowercased().contains("x-content-type-options: nosniff"))
        }
    }

    @Test func aClientThatTrustsAnotherCARefusesTheGateway() async throws {
        let files = try EdgeFiles()
        let other = try EdgeFiles()
        try await Self.withHTTPSGateway(files) { port in
            let reply = try await Self.curl(Self.resolve(port) + ["--cacert", other.caFile, Self.url(port)])
            #expect(reply.status == 60, "curl should refuse an unknown issuer: \(reply.output)")
        }
    }

    @Test func anExpiredCertificateIsWhatTheClientSees() async throws {
        let files = try EdgeFiles()
        try files.issue(notValidAfter: Date().addingTimeInterval(-3_600), notValidBefore: Date().addingTimeInterval(-7_200))
        try await Self.withHTTPSGateway(files) { port in
            let reply = try await Self.curl(Self.resolve(port) + ["--cacert", files.caFile, Self.url(port)])
            #expect(reply.status == 60, "\(reply.output)")
            #expect(reply.output.contains("expired"), "\(reply.output)")
        }
    }

    @Test func aRenewedCertificateIsUsedForNewConnectionsWithoutARestart() async throws {
        let files = try EdgeFiles()
        // Starts with an expired certificate, then the files are renewed.
        try files.issue(notValidAfter: Date().addingTimeInterval(-3_600), notValidBefore: Date().addingTimeInterval(-7_200))
        try await Self.withHTTPSGateway(files) { port in
            let before = try await Self.curl(Self.resolve(port) + ["--cacert", files.caFile, Self.url(port)])
            #expect(before.status == 60, "\(before.output)")
            try files.issue()
            let after = try await Self.curl(Self.resolve(port) + ["--cacert", files.caFile, Self.url(port)])
            #expect(after.status == 0, "the renewed certificate was not picked up: \(after.output)")
        }
    }

    @Test func plainHTTPToTheHTTPSPortGetsNoAPIResponse() async throws {
        let files = try EdgeFiles()
        try await Self.withHTTPSGateway(files) { port in
            let reply = try await Self.curl(["http://127.0.0.1:\(port)/"])
            #expect(!reply.output.contains("API Gateway is running"), "\(reply.output)")
        }
    }

    @Test func startingWithUnreadableFilesFailsWithTheirNames() throws {
        var configuration = GatewayHarness.configuration(upstreams: try GatewayHarness.deadUpstreams())
        configuration.https = GatewayHTTPS(certificateChainPath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem")
        let error = #expect(throws: (any Error).self) { _ = try makeGateway(configuration: configuration) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("/nonexistent/cert.pem"))
    }
}
