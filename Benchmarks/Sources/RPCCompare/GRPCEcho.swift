import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import SwiftProtobuf

/// `bench.v1.Echo` on grpc-swift-2, through the generated service protocol
/// (Generated/echo.grpc.swift).
struct GRPCEchoService: Bench_V1_Echo.SimpleServiceProtocol {
    func echo(request: Google_Protobuf_BytesValue, context: GRPCCore.ServerContext) async throws -> Google_Protobuf_BytesValue {
        request
    }
}

/// grpc-swift-2 with grpc-swift-nio-transport's HTTP/2 Posix transport, at
/// its default settings (the ones an adopter gets).
enum GRPCEcho {
    static func serverSecurity(_ certificates: BenchCertificates?) -> HTTP2ServerTransport.Posix.TransportSecurity {
        guard let certificates else { return .plaintext }
        return .mTLS(
            certificateChain: [.file(path: certificates.certificatePath(BenchCertificates.serverName), format: .pem)],
            privateKey: .file(path: certificates.keyPath(BenchCertificates.serverName), format: .pem)
        ) { tls in
            tls.trustRoots = .certificates([.file(path: certificates.caPath, format: .pem)])
            // The certificates carry URI SANs, no DNS names (as shop's do).
            tls.clientCertificateVerification = .noHostnameVerification
        }
    }

    static func clientSecurity(_ certificates: BenchCertificates?) -> HTTP2ClientTransport.Posix.TransportSecurity {
        guard let certificates else { return .plaintext }
        return .mTLS(
            certificateChain: [.file(path: certificates.certificatePath(BenchCertificates.clientName), format: .pem)],
            privateKey: .file(path: certificates.keyPath(BenchCertificates.clientName), format: .pem)
        ) { tls in
            tls.trustRoots = .certificates([.file(path: certificates.caPath, format: .pem)])
            tls.serverCertificateVerification = .noHostnameVerification
        }
    }

    /// Serves Echo until the process ends; `announce` gets the bound port.
    static func serve(host: String, certificates: BenchCertificates?, announce: @Sendable (Int) -> Void) async throws {
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: host, port: 0), transportSecurity: serverSecurity(certificates)),
            services: [GRPCEchoService()]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            guard let address = try await server.listeningAddress?.ipv4 else {
                throw BenchError("gRPC server did not bind an IPv4 address")
            }
            announce(address.port)
            try await group.next()
        }
    }

    /// One `GRPCClient` per connection (the default pick-first policy opens
    /// one HTTP/2 connection to its one address); task `i` calls through
    /// client `i % connections`.
    static func load(host: String, port: Int, payload: [UInt8], concurrency: Int, connections: Int, window: TimedWindow, certificates: BenchCertificates?) async throws -> LoadSample {
        let clients = try (0..<connections).map { _ in
            GRPCClient(transport: try HTTP2ClientTransport.Posix(
                target: .ipv4(address: host, port: port),
                transportSecurity: clientSecurity(certificates)
            ))
        }
        let echoes = clients.map { Bench_V1_Echo.Client(wrapping: $0) }
        let request = Google_Protobuf_BytesValue.with { $0.value = Data(payload) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { try await client.runConnections() }
            }
            let sample = await runTaskLoad(concurrency: concurrency, connections: connections, expectedBytes: payload.count, window: window) { connection in
                let response = try await echoes[connection].echo(request)
                return response.value.count
            }
            clients.forEach { $0.beginGracefulShutdown() }
            try await group.waitForAll()
            return sample
        }
    }
}
