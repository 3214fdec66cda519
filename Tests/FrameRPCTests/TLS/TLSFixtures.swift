import FrameRPC
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ShopCertificates
import SwiftProtobuf
import Synchronization
import X509

/// Certificates for the transport tests, made once per test process: a CA
/// the servers trust, and the strangers it must turn away.
struct TLSMaterial: Sendable {
    static let shared: TLSMaterial = {
        do { return try TLSMaterial() } catch { fatalError("cannot make test certificates: \(error)") }
    }()

    let authority: CertificateAuthority
    let otherAuthority: CertificateAuthority
    let caPEM: String

    init() throws {
        authority = try CertificateAuthority.make(name: "FrameRPC tests CA")
        otherAuthority = try CertificateAuthority.make(name: "another CA")
        caPEM = try authority.certificatePEM
    }

    static func uri(_ service: String) -> String { PeerIdentity.serviceURI(service) }

    /// A certificate for `service` from the trusted CA, valid a day.
    func leaf(_ service: String, notValidAfter: Date = Date().addingTimeInterval(86_400)) throws -> IssuedCertificate {
        try authority.issue(uri: Self.uri(service), dnsNames: [service], notValidAfter: notValidAfter)
    }

    /// In-memory TLS for `certificate`, trusting the test CA.
    func configuration(_ certificate: IssuedCertificate, serverIdentity: String? = nil) throws -> RPCTLSConfiguration {
        RPCTLSConfiguration(
            certificateChain: .pem(try certificate.certificatePEM),
            privateKey: .pem(certificate.privateKeyPEM),
            trustRoots: .pem(caPEM),
            serverIdentity: serverIdentity
        )
    }

    /// TLS for a server or client that is `service`.
    func configuration(as service: String, serverIdentity: String? = nil) throws -> RPCTLSConfiguration {
        try configuration(leaf(service), serverIdentity: serverIdentity)
    }
}

/// Counts what a server tells its ``ConnectionObserver``.
final class HandshakeCounter: ConnectionObserver {
    private let failures = Atomic<Int>(0)
    private let opened = Atomic<Int>(0)

    var handshakeFailures: Int { failures.load(ordering: .relaxed) }
    var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    func connectionOpened() { opened.wrappingAdd(1, ordering: .relaxed) }
    func connectionClosed() {}
    func tlsHandshakeFailed() { failures.wrappingAdd(1, ordering: .relaxed) }
}

/// Every log record, with its level, for checking what a server logged.
final class LogCapture: Sendable {
    private let records = Mutex<[(Logger.Level, String, String)]>([])

    var logger: Logger {
        var logger = Logger(label: "tls-tests") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    func messages(atLeast level: Logger.Level) -> [String] {
        records.withLock { $0.filter { $0.0 >= level }.map(\.1) }
    }

    /// Messages with their metadata, `message key=value ...`.
    func details(atLeast level: Logger.Level) -> [String] {
        records.withLock { $0.filter { $0.0 >= level }.map { "\($0.1) \($0.2)" } }
    }

    fileprivate func append(_ level: Logger.Level, _ message: String, _ metadata: String) {
        records.withLock { $0.append((level, message, metadata)) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append(event.level, "\(event.message)", merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
    }
}

/// Answers with the caller's verified identity as the handler sees it:
/// `<uri>|<service>`, or `none`.
struct PeerProbeService: RPCService {
    static let whoAmI = "/test.v1.Peer/WhoAmI"

    func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(Self.whoAmI) { (_: Google_Protobuf_Empty, context) -> Google_Protobuf_StringValue in
            .with { $0.value = context.peer.map { "\($0.uri)|\($0.service ?? "")" } ?? "none" }
        }
    }
}

extension RPCClient {
    func whoAmI() async throws -> String {
        try await unary(method: PeerProbeService.whoAmI, request: Google_Protobuf_Empty(), response: Google_Protobuf_StringValue.self, options: CallOptions(timeout: .seconds(5))).value
    }
}

/// A bare NIOSSL client, for what `RPCClient` cannot do: connect without a
/// certificate, and read the certificate a server presents.
enum RawTLSClient {
    struct Outcome: Sendable {
        /// The server's leaf, if the handshake got that far.
        let serverCertificate: Certificate?
        /// Whether the server closed the connection after we wrote a byte.
        let closedByServer: Bool
    }

    /// Connects to `port` with `certificate` (none if `nil`), trusting the
    /// test CA, sends `bytes`, and waits up to 5 s for the server to close.
    static func probe(port: Int, certificate: IssuedCertificate?, bytes: [UInt8] = [0, 0, 0, 0]) async throws -> Outcome {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(TLSMaterial.shared.caPEM.utf8), format: .pem)])
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv13
        if let certificate {
            tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(certificate.certificatePEM.utf8), format: .pem))]
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(certificate.privateKeyPEM.utf8), format: .pem))
        }
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        // The first write waits for the handshake; its certificate is then known.
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        let leaf = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.nioSSL_peerCertificate().map { try Certificate(derEncoded: $0.toDERBytes()) }
        }.get()
        let closed = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                (try? await channel.closeFuture.get()) != nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                // Ends the other task too, whoever closed first.
                channel.close(promise: nil)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return Outcome(serverCertificate: leaf ?? nil, closedByServer: closed)
    }
}
