import FrameRPC
import Foundation
import ShopCertificates
import SwiftProtobuf
import Testing

/// FrameRPC over mutual TLS, on real sockets: who gets in, what a handler
/// learns about its caller, and what a client insists on.
@Suite("Mutual TLS")
struct MutualTLSTests {
    let material = TLSMaterial.shared

    /// A TLS server that is `service`, counting handshake failures and
    /// capturing its logs, for `body`.
    func withTLSServer<Result: Sendable>(
        as service: String = "user",
        counter: HandshakeCounter = HandshakeCounter(),
        logs: LogCapture = LogCapture(),
        _ body: (Int) async throws -> Result
    ) async throws -> Result {
        let server = RPCServer(
            configuration: RPCServer.Configuration(tls: try material.configuration(as: service)),
            services: [FixtureService(), PeerProbeService()],
            connectionObserver: counter,
            logger: logs.logger
        )
        return try await withRunningServer(server, body)
    }

    /// A client presenting `certificate`.
    func client(port: Int, _ certificate: IssuedCertificate, serverIdentity: String? = nil) throws -> RPCClient {
        RPCClient(host: "127.0.0.1", port: port, configuration: RPCClient.Configuration(tls: try material.configuration(certificate, serverIdentity: serverIdentity)))
    }

    /// After a stranger was turned away: it was counted, nothing was logged
    /// at error level, and a client with a good certificate is answered.
    func expectStrangerTurnedAway(port: Int, counter: HandshakeCounter, logs: LogCapture, failuresBefore: Int = 0) async throws {
        let counted = await eventually { counter.handshakeFailures > failuresBefore }
        #expect(counted, "the failed handshake was not counted")
        #expect(logs.messages(atLeast: .error).isEmpty, "\(logs.messages(atLeast: .error))")
        let good = try client(port: port, material.leaf("gateway"))
        defer { good.shutdown() }
        #expect(try await good.echo("still serving") == "still serving")
    }

    @Test("a client without a certificate fails the handshake; the server counts it and serves the next client")
    func noCertificate() async throws {
        let counter = HandshakeCounter()
        let logs = LogCapture()
        try await withTLSServer(counter: counter, logs: logs) { port in
            let outcome = try await RawTLSClient.probe(port: port, certificate: nil)
            #expect(outcome.closedByServer)
            try await expectStrangerTurnedAway(port: port, counter: counter, logs: logs)
            #expect(logs.messages(atLeast: .debug).contains("TLS handshake failed"))
        }
    }

    @Test("a self-signed certificate naming a real service is refused")
    func selfSigned() async throws {
        let counter = HandshakeCounter()
        let logs = LogCapture()
        try await withTLSServer(counter: counter, logs: logs) { port in
            let forged = try IssuedCertificate.selfSigned(uri: TLSMaterial.uri("order"))
            let stranger = try client(port: port, forged)
            defer { stranger.shutdown() }
            let error = await rpcError { _ = try await stranger.echo("let me in") }
            #expect(error != nil)
            try await expectStrangerTurnedAway(port: port, counter: counter, logs: logs)
        }
    }

    @Test("an expired certificate from the right CA is refused")
    func expired() async throws {
        let counter = HandshakeCounter()
        let logs = LogCapture()
        try await withTLSServer(counter: counter, logs: logs) { port in
            let old = try material.authority.issue(
                uri: TLSMaterial.uri("order"),
                notValidBefore: Date().addingTimeInterval(-7 * 86_400),
                notValidAfter: Date().addingTimeInterval(-86_400)
            )
            let stranger = try client(port: port, old)
            defer { stranger.shutdown() }
            let error = await rpcError { _ = try await stranger.echo("let me in") }
            #expect(error != nil)
            try await expectStrangerTurnedAway(port: port, counter: counter, logs: logs)
        }
    }

    @Test("a certificate from another CA is refused")
    func otherAuthority() async throws {
        let counter = HandshakeCounter()
        let logs = LogCapture()
        try await withTLSServer(counter: counter, logs: logs) { port in
            let foreign = try material.otherAuthority.issue(uri: TLSMaterial.uri("order"), notValidAfter: Date().addingTimeInterval(86_400))
            let stranger = try client(port: port, foreign)
            defer { stranger.shutdown() }
            let error = await rpcError { _ = try await stranger.echo("let me in") }
            #expect(error != nil)
            try await expectStrangerTurnedAway(port: port, counter: counter, logs: logs)
        }
    }

    @Test("a plaintext FrameRPC frame on a TLS port never reaches the frame decoder")
    func plaintextPeer() async throws {
        let counter = HandshakeCounter()
        let logs = LogCapture()
        try await withTLSServer(counter: counter, logs: logs) { port in
            let plaintext = RPCClient(host: "127.0.0.1", port: port)
            defer { plaintext.shutdown() }
            let error = await rpcError { _ = try await plaintext.echo("hello?") }
            #expect(error?.code == .unavailable)
            try await expectStrangerTurnedAway(port: port, counter: counter, logs: logs)
        }
    }

    @Test("the verified identity reaches the handler as ServerContext.peer")
    func peerReachesHandler() async throws {
        try await withTLSServer { port in
            let order = try client(port: port, material.leaf("order"))
            defer { order.shutdown() }
            #expect(try await order.whoAmI() == "spiffe://shop.local/service/order|order")
        }
    }

    @Test("each connection carries its own peer's identity")
    func identityPerConnection() async throws {
        try await withTLSServer { port in
            let order = try client(port: port, material.leaf("order"))
            let notification = try client(port: port, material.leaf("notification"))
            defer {
                order.shutdown()
                notification.shutdown()
            }
            async let first = order.whoAmI()
            async let second = notification.whoAmI()
            let seen = try await [first, second]
            #expect(seen == ["spiffe://shop.local/service/order|order", "spiffe://shop.local/service/notification|notification"])
        }
    }

    @Test("a client that expects service X refuses a server whose certificate says Y, before sending a call")
    func clientChecksServerIdentity() async throws {
        let probe = HandlerProbe()
        let server = RPCServer(
            configuration: RPCServer.Configuration(tls: try material.configuration(as: "product")),
            services: [FixtureService(probe: probe)]
        )
        try await withRunningServer(server) { port in
            let clientLogs = LogCapture()
            let wrong = RPCClient(
                host: "127.0.0.1",
                port: port,
                configuration: RPCClient.Configuration(tls: try material.configuration(material.leaf("gateway"), serverIdentity: TLSMaterial.uri("user"))),
                logger: clientLogs.logger
            )
            defer { wrong.shutdown() }
            let error = await rpcError { _ = try await wrong.unary(method: FixtureService.slow, request: Google_Protobuf_Int64Value(1), response: Google_Protobuf_Int64Value.self) }
            #expect(error?.code == .unavailable)
            #expect(!probe.recorded.contains("slow started"), "the call reached the impostor")
            let warnings = clientLogs.messages(atLeast: .warning)
            #expect(warnings.contains("TLS handshake failed"), "\(warnings)")
            #expect(clientLogs.details(atLeast: .warning).contains { $0.contains("names spiffe://shop.local/service/product, not spiffe://shop.local/service/user") })

            let right = try client(port: port, material.leaf("gateway"), serverIdentity: TLSMaterial.uri("product"))
            defer { right.shutdown() }
            #expect(try await right.echo("you are product") == "you are product")
        }
    }

    @Test("a plaintext server has no peer identity, and a TLS client cannot talk to it")
    func plaintextServer() async throws {
        try await withTestServer(services: [PeerProbeService()]) { plaintext, port in
            #expect(try await plaintext.whoAmI() == "none")
            let tls = try client(port: port, material.leaf("gateway"))
            defer { tls.shutdown() }
            let error = await rpcError { _ = try await tls.whoAmI() }
            #expect(error?.code == .unavailable)
        }
    }

    @Test("a server whose TLS material does not load refuses to start, saying which file")
    func unusableMaterial() async throws {
        let missing = "/nonexistent/\(UUID().uuidString)/server.pem"
        let server = RPCServer(
            configuration: RPCServer.Configuration(tls: .files(certificateChain: missing, privateKey: missing, trustRoots: missing)),
            services: [FixtureService()]
        )
        let error = await #expect(throws: TLSMaterialError.self) { try await server.run() }
        #expect(error?.description.contains(missing) == true)
    }
}
