import FrameRPC
import Foundation
import SwiftProtobuf

/// `bench.v1.Echo` on FrameRPC: one unary method that returns its request.
/// Only FrameRPC's public API is used, so the benchmark measures whatever
/// FrameRPC the checkout has.
struct FrameRPCEchoService: RPCService {
    static let echoMethod = "/bench.v1.Echo/Echo"

    func registerMethods(with router: inout RPCRouter) {
        router.registerUnary(Self.echoMethod) { (request: Google_Protobuf_BytesValue, _: ServerContext) in
            request
        }
    }
}

enum FrameRPCEcho {
    static func tlsServer(_ certificates: BenchCertificates) -> RPCTLSConfiguration {
        .files(
            certificateChain: certificates.certificatePath(BenchCertificates.serverName),
            privateKey: certificates.keyPath(BenchCertificates.serverName),
            trustRoots: certificates.caPath
        )
    }

    static func tlsClient(_ certificates: BenchCertificates) -> RPCTLSConfiguration {
        .files(
            certificateChain: certificates.certificatePath(BenchCertificates.clientName),
            privateKey: certificates.keyPath(BenchCertificates.clientName),
            trustRoots: certificates.caPath,
            serverIdentity: certificates.serverIdentity
        )
    }

    /// Serves Echo until the process ends; `announce` gets the bound port.
    static func serve(host: String, certificates: BenchCertificates?, announce: @Sendable (Int) -> Void) async throws {
        let server = RPCServer(
            configuration: RPCServer.Configuration(
                host: host,
                port: 0,
                // Room for the c=256 rows on one connection.
                maximumConcurrentCallsPerConnection: 1024,
                tls: certificates.map(tlsServer)
            ),
            services: [FrameRPCEchoService()]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            announce(try await server.port)
            try await group.next()
        }
    }

    /// One `RPCClient` per connection (each opens one connection to its
    /// one address); task `i` calls through client `i % connections`.
    static func load(host: String, port: Int, payload: [UInt8], concurrency: Int, connections: Int, window: TimedWindow, certificates: BenchCertificates?) async throws -> LoadSample {
        let configuration = RPCClient.Configuration(tls: certificates.map(tlsClient))
        let clients = (0..<connections).map { _ in RPCClient(host: host, port: port, configuration: configuration) }
        defer { clients.forEach { $0.shutdown() } }
        let request = Google_Protobuf_BytesValue.with { $0.value = Data(payload) }
        return await runTaskLoad(concurrency: concurrency, connections: connections, expectedBytes: payload.count, window: window) { connection in
            let response = try await clients[connection].unary(
                method: FrameRPCEchoService.echoMethod,
                request: request,
                response: Google_Protobuf_BytesValue.self
            )
            return response.value.count
        }
    }
}
